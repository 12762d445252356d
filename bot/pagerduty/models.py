"""Tables of the pagerduty feature: links, the webhook inbox, Declare offers and review picks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base, utcnow


class PagerDutyLink(Base):
    """A PagerDuty incident linked to one of our incidents (one SEV may have several)."""

    __tablename__ = "pagerduty_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    pd_incident_id: Mapped[str] = mapped_column(String(32), unique=True)
    pd_number: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(String(300), default="")
    service_name: Mapped[str] = mapped_column(String(200), default="")
    urgency: Mapped[str] = mapped_column(String(16), default="high")
    html_url: Mapped[str] = mapped_column(String(500), default="")
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)
    linked_by: Mapped[str | None] = mapped_column(String(32))
    resolved_in_pagerduty_at: Mapped[datetime | None]


class PagerDutyDelivery(Base):
    """A V3 webhook delivery, stored on receipt and processed later (deduped on X-Webhook-Id)."""

    __tablename__ = "pagerduty_webhook_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[str] = mapped_column(String(200), unique=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    body: Mapped[str] = mapped_column(Text)
    # pending -> processing -> done (outcome says what happened) or failed after retries.
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_at: Mapped[datetime | None]
    processed_at: Mapped[datetime | None]
    event_id: Mapped[str | None] = mapped_column(String(64))
    event_type: Mapped[str | None] = mapped_column(String(64))
    pd_incident_id: Mapped[str | None] = mapped_column(String(32), index=True)
    outcome: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)


class PagerDutyOffer(Base):
    """A [Declare incident] offer posted for a triggered PagerDuty incident."""

    __tablename__ = "pagerduty_offers"

    pd_incident_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(32))
    offered_at: Mapped[datetime] = mapped_column(default=utcnow)


class AlertReviewPick(Base):
    """A low-urgency alert group picked for discussion; a cycle ends when every group was picked."""

    __tablename__ = "alert_review_picks"
    __table_args__ = (UniqueConstraint("cycle", "group_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle: Mapped[int] = mapped_column(default=1, index=True)
    group_key: Mapped[str] = mapped_column(String(300))
    label: Mapped[str] = mapped_column(String(300), default="")
    picked_at: Mapped[datetime] = mapped_column(default=utcnow)


class AlertReviewRun(Base):
    """One scheduled alert review: claimed before posting, so a run posts once."""

    __tablename__ = "alert_review_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_key: Mapped[str] = mapped_column(String(64), unique=True)
    channel_id: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    posted_at: Mapped[datetime | None]
