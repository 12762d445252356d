"""Tables of the postmortems feature: one postmortem per incident, and the Notion sync cursor."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, utcnow

STATUSES = ("Draft", "In review", "Complete")


class Postmortem(Base):
    """The postmortem of one incident: its Notion page, status, meeting and export queue state."""

    __tablename__ = "postmortems"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), unique=True
    )
    status: Mapped[str] = mapped_column(String(16), default="Draft", index=True)
    completed_at: Mapped[datetime | None]
    # Where the completion or meeting came from: "slack" or "notion".
    completed_via: Mapped[str | None] = mapped_column(String(16))
    meeting_at: Mapped[datetime | None]
    meeting_source: Mapped[str | None] = mapped_column(String(16))
    # When a meeting was first recorded (the incident review's "booked within a day").
    meeting_booked_at: Mapped[datetime | None]
    pagerduty_url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # Notion page and what the bot generated in it.
    notion_page_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    notion_url: Mapped[str | None] = mapped_column(String(500))
    # False until the whole body is written; a partial body is rewritten from scratch.
    body_complete: Mapped[bool] = mapped_column(default=False)
    # A meeting or completion from Slack that could not be written to the page yet.
    push_pending: Mapped[bool] = mapped_column(default=False)
    # Region name -> {"anchor": block id or None, "blocks": [top-level block ids]}.
    regions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # An append to a region whose answer never came back: {"region", "after", "digests"}.
    # The next export finds those blocks on the page and removes them before rewriting.
    pending_append: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    link_posted: Mapped[bool] = mapped_column(default=False)

    # Durable export queue: pending rows are retried by the scheduler until they succeed.
    export_pending: Mapped[bool] = mapped_column(default=False, index=True)
    export_attempts: Mapped[int] = mapped_column(default=0)
    next_export_at: Mapped[datetime | None]
    export_lease_until: Mapped[datetime | None]
    last_export_error: Mapped[str | None] = mapped_column(Text)
    # The error last told to the channel, so a stuck export is announced once, not every retry.
    error_notified: Mapped[str | None] = mapped_column(Text)
    exported_at: Mapped[datetime | None]
    notion_synced_at: Mapped[datetime | None]


class NotionSyncCursor(Base):
    """How far the Notion read-back has got (one row per data source)."""

    __tablename__ = "notion_sync_cursors"

    data_source_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    synced_until: Mapped[datetime]
