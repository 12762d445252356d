"""What the incident flows need from the outside, passed in rather than imported."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import structlog
from sqlalchemy.orm import Session, sessionmaker

from bot.events import EventBus
from bot.incidents import service
from bot.incidents.activity_writer import ActivityWriter
from bot.integrations.ports import ChatPort, IncidentPresenter
from bot.outbox.delivery import Outbox
from bot.settings import Settings

log = structlog.get_logger(__name__)

NEGATIVE_TTL = 5.0  # seconds a 'not an incident channel' answer is trusted


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
            incident_id = service.incident_id_for_channel(channel_id, session=session)
        if len(self._channels) > 10_000:
            self._channels.clear()
        self._channels[channel_id] = (incident_id, now)
        return incident_id
