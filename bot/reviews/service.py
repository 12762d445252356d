"""Data access for review runs. Every function takes a keyword-only session."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from bot.db import inserted, rowcount, upsert_insert
from bot.reviews.models import IncidentReviewRun


def record_run(run_key: str, due_at: datetime, *, session: Session) -> bool:
    """Record a scheduled run; False when another replica (or an earlier firing) already did."""
    stmt = upsert_insert(session, IncidentReviewRun).values(
        run_key=run_key, due_at=due_at, created_at=due_at, attempts=0
    )
    return inserted(session, stmt.on_conflict_do_nothing(index_elements=["run_key"]))


def unposted_runs(*, session: Session, since: datetime, now: datetime) -> Sequence[str]:
    """Return the keys of runs due since `since`, not posted and not leased, oldest first."""
    return session.scalars(
        select(IncidentReviewRun.run_key)
        .where(
            IncidentReviewRun.posted_at.is_(None),
            IncidentReviewRun.due_at >= since,
            IncidentReviewRun.due_at <= now,
            or_(IncidentReviewRun.lease_until.is_(None), IncidentReviewRun.lease_until < now),
        )
        .order_by(IncidentReviewRun.due_at)
    ).all()


def claim_run(
    run_key: str, *, session: Session, now: datetime, lease_until: datetime
) -> IncidentReviewRun | None:
    """Lease an unposted run for this process; None when posted or leased elsewhere."""
    claimed = session.execute(
        update(IncidentReviewRun)
        .where(
            IncidentReviewRun.run_key == run_key,
            IncidentReviewRun.posted_at.is_(None),
            or_(IncidentReviewRun.lease_until.is_(None), IncidentReviewRun.lease_until < now),
        )
        .values(lease_until=lease_until, attempts=IncidentReviewRun.attempts + 1)
    )
    if rowcount(claimed) != 1:
        return None
    return session.get(IncidentReviewRun, run_key, populate_existing=True)


def mark_posted(run_key: str, channel_id: str, *, session: Session, at: datetime) -> None:
    """Record that the run was posted."""
    session.execute(
        update(IncidentReviewRun)
        .where(IncidentReviewRun.run_key == run_key)
        .values(posted_at=at, channel_id=channel_id, lease_until=None, last_error=None)
    )


def mark_failed(run_key: str, error: str, *, session: Session, retry_at: datetime) -> None:
    """Record a failed post; the lease becomes the back-off before the next attempt."""
    session.execute(
        update(IncidentReviewRun)
        .where(IncidentReviewRun.run_key == run_key)
        .values(lease_until=retry_at, last_error=error[:2000])
    )
