"""Events API listeners: channel activity, pins, :pushpin: reactions and App Home."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog
from slack_bolt import App

from bot.db import session_scope, utcnow
from bot.deps import Deps
from bot.incidents import activity, flows, service
from bot.incidents.privacy import visible_to
from bot.slack.blocks.home import home_view

log = structlog.get_logger(__name__)


def is_human_message(event: dict[str, Any]) -> bool:
    """Say whether a message event was written by a person (not a bot, join or edit)."""
    return activity.is_human(
        user=event.get("user"), subtype=event.get("subtype"), bot_id=event.get("bot_id")
    ) and bool(event.get("ts"))


def register(app: App, deps: Deps) -> None:
    """Register the event listeners and the duplicate-delivery guard."""

    def once(handler: Callable[[dict[str, Any]], None]) -> Callable[..., None]:
        """Run a handler once per event id; a re-delivery (X-Slack-Retry) of done work is skipped.

        The id is claimed before the handler runs, so deliveries racing each other do the work
        once; if the handler fails the claim is dropped again, so the event counts as processed
        only once its handling has committed and a redelivery can still do it.
        Messages don't need this (they are recorded idempotently by ts), which keeps the
        message hot path free of these writes.
        """

        def run(body: dict[str, Any], event: dict[str, Any]) -> None:
            event_id = body.get("event_id")
            key = f"slack:{event_id}" if event_id else None
            if key is not None:
                with session_scope(deps.session_factory) as session:
                    if not service.claim_delivery(key, session=session):
                        log.info("duplicate_event_skipped", event_id=event_id)
                        return
            try:
                handler(event)
            except Exception:
                if key is not None:
                    with session_scope(deps.session_factory) as session:
                        service.forget_delivery(key, session=session)
                raise

        run.__name__ = handler.__name__
        return run

    @app.event("message")
    def on_message(event: dict[str, Any]) -> None:
        if is_human_message(event):
            activity.record_human_message(
                event["channel"], event["user"], event["ts"], deps.incidents
            )

    def record_pin(event: dict[str, Any]) -> None:
        item = event.get("item") or {}
        message = item.get("message") or {}
        ts = message.get("ts") or item.get("ts")
        channel = event.get("channel_id") or item.get("channel")
        if ts and channel:
            activity.record_pinned_message(
                channel,
                ts,
                kind="pin",
                actor_id=event.get("user"),
                text=message.get("text"),
                ctx=deps.incidents,
            )

    def record_pushpin(event: dict[str, Any]) -> None:
        item = event.get("item") or {}
        channel, ts = item.get("channel"), item.get("ts")
        if event.get("reaction") != "pushpin" or item.get("type") != "message":
            return
        if not channel or not ts:
            return
        activity.record_pinned_message(
            channel,
            ts,
            kind="pushpin",
            actor_id=event.get("user"),
            text=None,
            ctx=deps.incidents,
        )

    def publish_home(event: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return
        incidents = visible_to(
            flows.list_active(session_factory=deps.session_factory),
            event["user"],
            deps.chat.channel_members,
        )
        # Features add their own sections (deps.home_sections: hook(deps, user_id)).
        sections = [block for hook in deps.home_sections for block in hook(deps, event["user"])]
        deps.chat.publish_home(event["user"], home_view(incidents, utcnow(), sections))

    def ack_only() -> None:
        return None

    app.event("pin_added")(ack=ack_only, lazy=[once(record_pin)])
    app.event("reaction_added")(ack=ack_only, lazy=[once(record_pushpin)])
    app.event("app_home_opened")(ack=ack_only, lazy=[once(publish_home)])

    @app.event("pin_removed")
    @app.event("reaction_removed")
    @app.event("member_joined_channel")
    @app.event("channel_created")
    def ignore() -> None:
        return None
