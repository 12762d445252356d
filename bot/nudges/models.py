"""Tables of the nudges feature: per-incident schedule cache and meeting details.

The nudges themselves are outbox rows (bot.outbox), keyed by incident, kind and due time.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, utcnow


class NudgeSchedule(Base):
    """When an incident next needs attention, and the facts that answer was computed from.

    A cache: every value is re-derived from incidents, postmortems and nudge_deliveries when
    any seen_* fact changes, so deleting a row only costs one recomputation.
    """

    __tablename__ = "nudge_schedules"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    next_due_at: Mapped[datetime | None] = mapped_column(index=True)
    snooze_until: Mapped[datetime | None]
    snoozed_at: Mapped[datetime | None]
    snoozed_by: Mapped[str | None] = mapped_column(String(32))
    seen_activity_at: Mapped[datetime | None]
    seen_severity: Mapped[str | None] = mapped_column(String(32))
    seen_status: Mapped[str | None] = mapped_column(String(32))
    seen_meeting_at: Mapped[datetime | None]
    seen_postmortem_status: Mapped[str | None] = mapped_column(String(16))
    # Set by our own writes (snooze, meeting changes) to force a recomputation.
    dirty: Mapped[bool] = mapped_column(default=True)


class Meeting(Base):
    """Details of a postmortem meeting scheduled from Slack (its time lives on the postmortem)."""

    __tablename__ = "postmortem_meetings"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    uid: Mapped[str] = mapped_column(String(200))
    sequence: Mapped[int] = mapped_column(default=0)
    starts_at: Mapped[datetime | None]
    timezone: Mapped[str] = mapped_column(String(64))
    duration_seconds: Mapped[int]
    attendees: Mapped[list[str]] = mapped_column(JSON, default=list)
    scheduled_by: Mapped[str | None] = mapped_column(String(32))
    cancelled_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
