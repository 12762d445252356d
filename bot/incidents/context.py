"""What the incident flows need from the outside, passed in rather than imported."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.db import rowcount, utcnow
from bot.incidents.activity_writer import ActivityWriter
from bot.incidents.models import Incident
from bot.integrations.ports import ChatPort, IncidentPresenter
from bot.outbox.delivery import Outbox
from bot.settings import Settings

log = structlog.get_logger(__name__)

LEASE = timedelta(seconds=120)  # longer than a setup step with Slack retries
NEGATIVE_TTL = 5.0  # seconds a 'not an incident channel' answer is trusted


@dataclass(frozen=True)
class IncidentDeclared:
    """Emitted once an incident's channel is ready."""

    incident_id: int


@dataclass(frozen=True)
class IncidentChanged:
    """Emitted after a severity, status or role change."""

    incident_id: int
    field: str
    old: str | None
    new: str | None


@dataclass(frozen=True)
class IncidentResolved:
    """Emitted after an incident is resolved."""

    incident_id: int


@dataclass(frozen=True)
class PostmortemMeetingChanged:
    """Emitted after the postmortem meeting is scheduled, moved or cancelled from Slack."""

    incident_id: int


@dataclass(frozen=True)
class PostmortemCompleted:
    """Emitted after the postmortem is marked complete from Slack."""

    incident_id: int


_EVENTS: dict[str, type] = {
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
    """Turn a domain event into JSON for the outbox (events survive a crash there)."""
    return {"type": type(event).__name__, **dataclasses.asdict(event)}  # type: ignore[call-overload]


def decode_event(data: dict[str, Any]) -> object:
    """Rebuild a domain event recorded in the outbox."""
    fields = {k: v for k, v in data.items() if k != "type"}
    return _EVENTS[str(data["type"])](**fields)


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
                log.exception("event_handler_failed", event=type(event).__name__)


@dataclass
class IncidentContext:
    """Settings, database and ports shared by the incident flows."""

    settings: Settings
    session_factory: sessionmaker[Session]
    chat: ChatPort
    presenter: IncidentPresenter
    outbox: Outbox
    bus: EventBus = field(default_factory=EventBus)
    _announce_channel: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    # channel id -> (incident id or None, when looked up); an incident's channel never changes.
    _channels: dict[str, tuple[int | None, float]] = field(default_factory=dict)
    _activity: ActivityWriter | None = None
    _activity_lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def activity(self) -> ActivityWriter:
        """Return the group-commit writer of channel activity (created on first use)."""
        with self._activity_lock:  # not _lock: that one is held while Slack resolves a channel
            if self._activity is None:
                bind = self.session_factory.kw["bind"]
                self._activity = ActivityWriter(bind)
            return self._activity

    def close(self) -> None:
        """Flush and stop background writers."""
        if self._activity is not None:
            self._activity.close()

    def announcement_channel(self) -> str:
        """Resolve INCIDENTS_CHANNEL to an id once per process (joining it if needed)."""
        with self._lock:
            if self._announce_channel is None:
                self._announce_channel = self.chat.resolve_channel(self.settings.incidents_channel)
            return self._announce_channel

    def incident_for_channel(self, channel_id: str) -> int | None:
        """Return the incident id of a channel, cached (the event hot path).

        A miss is cached briefly, since a new incident's channel is recorded right after
        Slack creates it.
        """
        now = time.monotonic()
        cached = self._channels.get(channel_id)
        if cached is not None and (cached[0] is not None or now - cached[1] < NEGATIVE_TTL):
            return cached[0]
        with self.session_factory() as session:
            incident_id = session.scalar(
                select(Incident.id).where(Incident.channel_id == channel_id)
            )
        if len(self._channels) > 10_000:
            self._channels.clear()
        self._channels[channel_id] = (incident_id, now)
        return incident_id


def claim(incident_id: int, *, session: Session) -> bool:
    """Take the background-work lease on an incident; False if another worker holds it."""
    now = utcnow()
    result = session.execute(
        update(Incident)
        .where(Incident.id == incident_id)
        .where((Incident.lease_until.is_(None)) | (Incident.lease_until < now))
        .values(lease_until=now + LEASE)
    )
    return bool(rowcount(result))


def release(incident_id: int, *, session: Session) -> None:
    """Give the lease back."""
    session.execute(update(Incident).where(Incident.id == incident_id).values(lease_until=None))
