"""The in-process event bus, and the codec that lets the outbox keep events across a crash.

Flows record each domain event in the outbox in the same transaction as the change it
describes; the outbox publishes it here once the change has committed, so a crash between
the two loses no event (see bot/outbox/). Features subscribe to the event types they react to.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import structlog

from bot.incidents.events import IncidentChanged, IncidentDeclared, IncidentResolved
from bot.postmortems.events import PostmortemCompleted, PostmortemMeetingChanged

log = structlog.get_logger(__name__)

EVENT_TYPES: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        IncidentDeclared,
        IncidentChanged,
        IncidentResolved,
        PostmortemMeetingChanged,
        PostmortemCompleted,
    )
}


def encode_event(event: object) -> dict[str, Any]:
    """Turn a domain event into JSON for the outbox."""
    if type(event).__name__ not in EVENT_TYPES or not dataclasses.is_dataclass(event):
        raise TypeError(f"not a domain event: {event!r}")
    # Events hold ids and strings only, so their fields are the JSON.
    fields = {f.name: getattr(event, f.name) for f in dataclasses.fields(event)}
    return {"type": type(event).__name__, **fields}


def decode_event(data: dict[str, Any]) -> object:
    """Rebuild a domain event recorded in the outbox."""
    fields = {k: v for k, v in data.items() if k != "type"}
    return EVENT_TYPES[str(data["type"])](**fields)


class EventBus:
    """In-process publish/subscribe: features react to incidents the domain does not know."""

    def __init__(self) -> None:
        self._handlers: dict[type, list[Callable[[Any], None]]] = defaultdict(list)

    def subscribe(self, event_type: type, handler: Callable[[Any], None]) -> None:
        """Call handler for every event of this type."""
        self._handlers[event_type].append(handler)

    def publish(self, event: object) -> None:
        """Deliver an event to its handlers; a failing handler is logged, not propagated."""
        for handler in self._handlers.get(type(event), []):
            try:
                handler(event)
            except Exception:
                log.exception("event_handler_failed", event_type=type(event).__name__)
