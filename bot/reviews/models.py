"""Tables of the incident review: one row per scheduled run, so a run is posted once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, utcnow


class IncidentReviewRun(Base):
    """A scheduled review: recorded by each replica that fires, posted by the one that claims it."""

    __tablename__ = "incident_review_runs"

    run_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    # The scheduled firing: the end of the reviewed period, so a retry shows the same figures.
    due_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    posted_at: Mapped[datetime | None] = mapped_column(index=True)
    channel_id: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)
