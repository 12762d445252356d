"""Incident tables: the incident, its timeline, channel activity and processed deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.db import Base, utcnow

STATUSES = ("investigating", "identified", "monitoring", "resolved")
ROLES = ("commander", "comms", "scribe")


class Incident(Base):
    """A declared SEV incident and the progress of its Slack setup."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(unique=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    severity: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32), default="investigating", index=True)
    reporter_id: Mapped[str] = mapped_column(String(32))
    commander_id: Mapped[str | None] = mapped_column(String(32))
    comms_id: Mapped[str | None] = mapped_column(String(32))
    scribe_id: Mapped[str | None] = mapped_column(String(32))
    invitees: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Links asked for at declaration ({"pagerduty": "Q123"}), done by features after setup;
    # kept until done, so a crash or an outage cannot lose them.
    pending_links: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    summary: Mapped[str | None] = mapped_column(Text)
    # A drill (`/incident declare drill …`) runs like any incident but stays out of the review.
    is_drill: Mapped[bool] = mapped_column(default=False, server_default=false())
    # A private incident has a private channel and shows its title only to the channel's members.
    is_private: Mapped[bool] = mapped_column(default=False, server_default=false())
    # A security incident is private by default and invites SECURITY_RESPONDERS.
    is_security: Mapped[bool] = mapped_column(default=False, server_default=false())
    declared_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    # Idempotency: the view id of a modal submit or the trigger id of a slash command.
    request_key: Mapped[str] = mapped_column(String(64), unique=True)
    # Setup progress, so a restart resumes where it stopped.
    channel_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    channel_name: Mapped[str | None] = mapped_column(String(80))
    members_invited: Mapped[bool] = mapped_column(default=False)
    topic_set: Mapped[bool] = mapped_column(default=False)
    kickoff_ts: Mapped[str | None] = mapped_column(String(32))
    kickoff_pinned: Mapped[bool] = mapped_column(default=False)
    announcement_channel_id: Mapped[str | None] = mapped_column(String(32))
    announcement_ts: Mapped[str | None] = mapped_column(String(32))
    setup_done_at: Mapped[datetime | None]
    setup_attempts: Mapped[int] = mapped_column(default=0)
    setup_error: Mapped[str | None] = mapped_column(Text)
    # Background setup/sync is claimed with a lease so replicas never do it twice at once.
    lease_until: Mapped[datetime | None]
    # Each change bumps revision; the announcement, topic and kickoff are synced up to it.
    revision: Mapped[int] = mapped_column(default=0)
    synced_revision: Mapped[int] = mapped_column(default=0)
    last_human_message_at: Mapped[datetime | None]
    last_update_at: Mapped[datetime | None]

    timeline: Mapped[list[TimelineEntry]] = relationship(
        back_populates="incident",
        order_by="TimelineEntry.occurred_at",
        cascade="all, delete-orphan",
    )

    @property
    def is_open(self) -> bool:
        """Say whether the incident is still being worked on."""
        return self.status != "resolved"

    def role_holder(self, role: str) -> str | None:
        """Return the Slack user id holding a role, if any."""
        return getattr(self, f"{role}_id")  # type: ignore[no-any-return]


class TimelineEntry(Base):
    """One event in an incident's timeline (updates, changes, pins, PagerDuty log entries)."""

    __tablename__ = "timeline_entries"
    __table_args__ = (UniqueConstraint("incident_id", "dedupe_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[str | None] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text, default="")
    permalink: Mapped[str | None] = mapped_column(String(500))
    # Keeps a re-delivered Slack or PagerDuty event from adding a second entry.
    dedupe_key: Mapped[str | None] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    incident: Mapped[Incident] = relationship(back_populates="timeline")


class ChannelMessage(Base):
    """A human message in an incident channel: when and who, not what."""

    __tablename__ = "channel_messages"
    __table_args__ = (
        UniqueConstraint("incident_id", "ts"),
        Index("ix_channel_messages_incident_posted", "incident_id", "posted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    ts: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    posted_at: Mapped[datetime]


class Counter(Base):
    """A named sequence (incident numbers), advanced with UPDATE … RETURNING.

    The row lock serialises concurrent declares on PostgreSQL and the write lock does on
    SQLite; a declare that rolls back rolls its number back too, so numbers have no gaps.
    """

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)


class ProcessedDelivery(Base):
    """An inbound delivery already handled (Slack event_id, PagerDuty webhook id)."""

    __tablename__ = "processed_deliveries"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
