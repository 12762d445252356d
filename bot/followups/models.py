"""The follow-ups table: one action item of an incident, its owner, due date and status."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, utcnow

STATUSES = ("open", "done", "wont_do")


class FollowUp(Base):
    """An action item; shown as FU-<id>."""

    __tablename__ = "follow_ups"
    __table_args__ = (Index("ix_follow_ups_owner_status", "owner_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[str] = mapped_column(String(32))
    due_on: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(16), default="open")
    ticket_url: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(32))
    # [Snooze 1 week] on a nudge: no nudge before this time.
    snoozed_until: Mapped[datetime | None]
    # The follow-up's page in the Follow-ups database; pending until the page shows the row.
    notion_page_id: Mapped[str | None] = mapped_column(String(64))
    notion_url: Mapped[str | None] = mapped_column(String(500))
    notion_pending: Mapped[bool] = mapped_column(default=True, server_default=true())
    # The slash command's trigger id: a re-delivered command adds nothing.
    request_key: Mapped[str] = mapped_column(String(64), unique=True)

    @property
    def label(self) -> str:
        """Return the short id people type: FU-12."""
        return f"FU-{self.id}"
