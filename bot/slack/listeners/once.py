"""Run an Events API handler once per event id, even when Slack delivers the event again."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, Protocol

import structlog

from bot.db import session_scope
from bot.deps import Deps
from bot.incidents import service

log = structlog.get_logger(__name__)


class EventHandler(Protocol):
    """An event handler: the event, and deps by keyword."""

    def __call__(self, event: dict[str, Any], *, deps: Deps) -> None: ...


def ack_only() -> None:
    """Ack an event at once; its lazy listener does the work."""
    return None


def run_once(
    body: dict[str, Any], event: dict[str, Any], *, deps: Deps, handler: EventHandler
) -> None:
    """Run a handler once per event id; a re-delivery (X-Slack-Retry) of done work is skipped.

    The id is claimed before the handler runs, so deliveries racing each other do the work
    once; if the handler fails the claim is dropped again, so the event counts as processed
    only once its handling has committed and a redelivery can still do it.
    Messages don't need this (they are recorded idempotently by ts), which keeps the
    message hot path free of these writes.
    """
    event_id = body.get("event_id")
    key = f"slack:{event_id}" if event_id else None
    if key is not None:
        with session_scope(deps.session_factory) as session:
            if not service.claim_delivery(key, session=session):
                log.info("duplicate_event_skipped", event_id=event_id)
                return
    try:
        handler(event, deps=deps)
    except Exception:
        if key is not None:
            with session_scope(deps.session_factory) as session:
                service.forget_delivery(key, session=session)
        raise


def once(handler: EventHandler, deps: Deps) -> Callable[..., None]:
    """Return a lazy listener that runs handler(event, deps=deps) once per event id."""
    return partial(run_once, deps=deps, handler=handler)
