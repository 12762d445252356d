"""Tables of the nudges feature: per-incident schedule cache, sent-nudge log, meeting details."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
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


class NudgeDelivery(Base):
    """One nudge message: recorded (pending) before it is sent, so a crash never duplicates it."""

    __tablename__ = "nudge_deliveries"
    __table_args__ = (
        Index("ix_nudge_deliveries_incident_kind_due", "incident_id", "kind", "due_at"),
        Index("ix_nudge_deliveries_pending", "sent_at", "next_attempt_at"),
    )

    # incident id, kind and due time: the same nudge always gets the same key.
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[datetime]
    # A channel id, or a user id for a direct message.
    target: Mapped[str] = mapped_column(String(32))
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    blocks: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    channel_id: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


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
