"""The outbox table: one row per side effect, keyed so that no effect is recorded twice."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, utcnow


class OutboxMessage(Base):
    """A post, a file share or a domain event: recorded with its change, sent after the commit.

    The key travels in the Slack message metadata (or the file name), so an attempt whose
    answer was lost is found in Slack before it is sent again. Nudges are rows too: their key
    is made of incident, kind and due time, which is what keeps a nudge from being planned twice.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_incident_kind_due", "incident_id", "kind", "due_at"),
        Index("ix_outbox_pending", "sent_at", "next_attempt_at"),
    )

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    due_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A channel id or name, or a user id for a direct message; empty for domain events.
    target: Mapped[str] = mapped_column(String(80), default="")
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text, default="")
    blocks: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    file_name: Mapped[str | None] = mapped_column(String(200))
    file_title: Mapped[str | None] = mapped_column(String(300))
    file_content: Mapped[str | None] = mapped_column(Text)
    # A domain event, or the arguments of a message rendered only when it is sent.
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    channel_id: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None]
    # Held by the process sending it; renewed while the send is in flight.
    claimed_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
