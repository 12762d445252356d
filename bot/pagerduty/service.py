"""Data access for the pagerduty feature. Every function takes a keyword-only session."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from bot.db import inserted, rowcount, upsert_insert, utcnow
from bot.pagerduty.domain import PdIncident
from bot.pagerduty.models import (
    AlertReviewPick,
    AlertReviewRun,
    PagerDutyDelivery,
    PagerDutyLink,
    PagerDutyOffer,
)


class LinkConflict(Exception):
    """The PagerDuty incident is already linked to another of our incidents."""

    def __init__(self, pd_incident_id: str, incident_id: int) -> None:
        super().__init__(
            f"PagerDuty incident {pd_incident_id} is already linked to incident {incident_id}"
        )
        self.pd_incident_id = pd_incident_id
        self.incident_id = incident_id


# A scheduled review claimed by a process that died before posting may be retried after this.
CLAIM_TIMEOUT = timedelta(minutes=30)


# ---- links -------------------------------------------------------------------------------
def link(
    incident_id: int, pd: PdIncident, *, session: Session, linked_by: str | None = None
) -> bool:
    """Link a PagerDuty incident; False if already linked; LinkConflict if linked elsewhere."""
    stmt = upsert_insert(session, PagerDutyLink).values(
        incident_id=incident_id,
        pd_incident_id=pd.id,
        pd_number=pd.number,
        title=pd.title[:300],
        service_name=pd.service_name[:200],
        urgency=pd.urgency,
        html_url=pd.html_url[:500],
        linked_at=utcnow(),
        linked_by=linked_by,
    )
    if inserted(session, stmt.on_conflict_do_nothing(index_elements=["pd_incident_id"])):
        return True
    owner = incident_for_pd(pd.id, session=session)
    if owner is not None and owner != incident_id:
        raise LinkConflict(pd.id, owner)
    return False


def links_for(incident_id: int, *, session: Session) -> Sequence[PagerDutyLink]:
    """Return an incident's PagerDuty links, oldest first."""
    return session.scalars(
        select(PagerDutyLink)
        .where(PagerDutyLink.incident_id == incident_id)
        .order_by(PagerDutyLink.id)
    ).all()


def incident_for_pd(pd_incident_id: str, *, session: Session) -> int | None:
    """Return the id of our incident linked to a PagerDuty incident, if any."""
    return session.scalar(
        select(PagerDutyLink.incident_id).where(PagerDutyLink.pd_incident_id == pd_incident_id)
    )


def mark_resolved_in_pagerduty(link_id: int, *, session: Session) -> None:
    """Remember that we resolved a linked PagerDuty incident."""
    session.execute(
        update(PagerDutyLink)
        .where(PagerDutyLink.id == link_id)
        .values(resolved_in_pagerduty_at=utcnow())
    )


# ---- webhook inbox -----------------------------------------------------------------------
def store_delivery(webhook_id: str, body: str, *, session: Session) -> bool:
    """Store a webhook delivery; return False when this X-Webhook-Id was already stored."""
    stmt = upsert_insert(session, PagerDutyDelivery).values(
        webhook_id=webhook_id, body=body, received_at=utcnow(), status="pending", attempts=0
    )
    return bool(inserted(session, stmt.on_conflict_do_nothing(index_elements=["webhook_id"])))


def _claimable(stale_before: datetime, retry_before: datetime) -> Any:
    # New deliveries at once; failed ones after a pause; abandoned claims once they are stale.
    return or_(
        (PagerDutyDelivery.status == "pending")
        & (PagerDutyDelivery.claimed_at.is_(None) | (PagerDutyDelivery.claimed_at < retry_before)),
        (PagerDutyDelivery.status == "processing") & (PagerDutyDelivery.claimed_at < stale_before),
    )


def claimable_deliveries(
    *, session: Session, stale_before: datetime, retry_before: datetime, limit: int = 100
) -> list[int]:
    """Return ids of pending deliveries and of ones whose processing was abandoned."""
    rows = session.scalars(
        select(PagerDutyDelivery.id)
        .where(_claimable(stale_before, retry_before))
        .order_by(PagerDutyDelivery.id)
        .limit(limit)
    )
    return list(rows)


def claim(
    delivery_id: int, *, session: Session, stale_before: datetime, retry_before: datetime
) -> PagerDutyDelivery | None:
    """Claim a delivery for processing (one worker wins); return it, or None if taken."""
    won = rowcount(
        session.execute(
            update(PagerDutyDelivery)
            .where(PagerDutyDelivery.id == delivery_id)
            .where(_claimable(stale_before, retry_before))
            .values(
                status="processing", claimed_at=utcnow(), attempts=PagerDutyDelivery.attempts + 1
            )
        )
    )
    return session.get(PagerDutyDelivery, delivery_id) if won else None


def finish(
    delivery_id: int,
    *,
    session: Session,
    status: str,
    outcome: str | None = None,
    error: str | None = None,
    event: dict[str, str | None] | None = None,
) -> None:
    """Record how a delivery ended (done, pending again, or failed) and what it was about."""
    values: dict[str, Any] = {"status": status, "outcome": outcome, "error": error}
    if status != "pending":
        values["processed_at"] = utcnow()
    values.update(event or {})
    session.execute(
        update(PagerDutyDelivery).where(PagerDutyDelivery.id == delivery_id).values(**values)
    )


# ---- Declare offers ----------------------------------------------------------------------
def reserve_offer(pd_incident_id: str, channel_id: str, severity: str, *, session: Session) -> bool:
    """Reserve the one offer per PagerDuty incident; return False when it was already made."""
    stmt = upsert_insert(session, PagerDutyOffer).values(
        pd_incident_id=pd_incident_id, channel_id=channel_id, severity=severity, offered_at=utcnow()
    )
    return bool(inserted(session, stmt.on_conflict_do_nothing(index_elements=["pd_incident_id"])))


def offer_key(pd_incident_id: str) -> str:
    """Return the outbox key of the Declare offer for a PagerDuty incident."""
    return f"pagerduty:offer:{pd_incident_id}"


def get_offer(pd_incident_id: str, *, session: Session) -> PagerDutyOffer | None:
    """Return the offer made for a PagerDuty incident, if any."""
    return session.get(PagerDutyOffer, pd_incident_id)


# ---- alert review picks ------------------------------------------------------------------
def current_cycle(*, session: Session) -> int:
    """Return the pick rotation's current cycle number (1 when nothing was picked yet)."""
    return int(session.scalar(select(func.coalesce(func.max(AlertReviewPick.cycle), 1))) or 1)


def picked_in_cycle(cycle: int, *, session: Session) -> set[str]:
    """Return the group keys already picked in a cycle."""
    return set(
        session.scalars(select(AlertReviewPick.group_key).where(AlertReviewPick.cycle == cycle))
    )


def add_pick(cycle: int, group_key: str, label: str, *, session: Session) -> None:
    """Store one pick."""
    stmt = upsert_insert(session, AlertReviewPick).values(
        cycle=cycle, group_key=group_key[:300], label=label[:300], picked_at=utcnow()
    )
    session.execute(stmt.on_conflict_do_nothing(index_elements=["cycle", "group_key"]))


# ---- scheduled review runs ---------------------------------------------------------------
def claim_run(run_key: str, *, session: Session) -> bool:
    """Claim a scheduled review run; only one process wins it (the others get False).

    A claim whose process died before posting can be taken again after CLAIM_TIMEOUT.
    """
    now = utcnow()
    stmt = upsert_insert(session, AlertReviewRun).values(run_key=run_key, started_at=now)
    if inserted(session, stmt.on_conflict_do_nothing(index_elements=["run_key"])):
        return True
    retaken = session.execute(
        update(AlertReviewRun)
        .where(AlertReviewRun.run_key == run_key)
        .where(AlertReviewRun.posted_at.is_(None))
        .where(AlertReviewRun.started_at < now - CLAIM_TIMEOUT)
        .values(started_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(rowcount(retaken))


def last_posted_at(*, session: Session) -> datetime | None:
    """Return when the latest scheduled review was posted, if ever."""
    return session.scalar(
        select(AlertReviewRun.posted_at)
        .where(AlertReviewRun.posted_at.is_not(None))
        .order_by(AlertReviewRun.posted_at.desc())
        .limit(1)
    )


def mark_run_posted(run_key: str, channel_id: str, ts: str, *, session: Session) -> None:
    """Remember that a scheduled run was posted (and where)."""
    session.execute(
        update(AlertReviewRun)
        .where(AlertReviewRun.run_key == run_key)
        .values(channel_id=channel_id, ts=ts, posted_at=utcnow())
    )
