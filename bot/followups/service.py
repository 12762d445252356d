"""Data access for follow-ups. Every function takes a keyword-only session."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import and_, false, func, or_, select
from sqlalchemy.orm import Session

from bot.db import inserted, upsert_insert, utcnow
from bot.followups.models import FollowUp
from bot.incidents.models import Incident

SNOOZE_FOR_DAYS = 7  # the [Snooze 1 week] button


def create(
    *,
    session: Session,
    incident_id: int,
    text: str,
    owner_id: str,
    due_on: date | None,
    created_by: str,
    request_key: str,
) -> tuple[FollowUp, bool]:
    """Store a follow-up once per request; return it and whether it is new."""
    stmt = upsert_insert(session, FollowUp).values(
        incident_id=incident_id,
        text=text,
        owner_id=owner_id,
        due_on=due_on,
        status="open",
        created_by=created_by,
        created_at=utcnow(),
        request_key=request_key,
    )
    created = inserted(session, stmt.on_conflict_do_nothing(index_elements=["request_key"]))
    row = session.scalar(select(FollowUp).where(FollowUp.request_key == request_key))
    assert row is not None
    return row, created


def get(followup_id: int, *, session: Session) -> FollowUp | None:
    """Return a follow-up by id."""
    return session.get(FollowUp, followup_id)


def open_for_incident(incident_id: int, *, session: Session) -> Sequence[FollowUp]:
    """Return an incident's open follow-ups, oldest first."""
    return session.scalars(
        select(FollowUp)
        .where(FollowUp.incident_id == incident_id, FollowUp.status == "open")
        .order_by(FollowUp.id)
    ).all()


def for_incident(incident_id: int, *, session: Session) -> Sequence[FollowUp]:
    """Return every follow-up of an incident, oldest first."""
    return session.scalars(
        select(FollowUp).where(FollowUp.incident_id == incident_id).order_by(FollowUp.id)
    ).all()


def open_for_owner(owner_id: str | None, *, session: Session) -> Sequence[FollowUp]:
    """Return the open follow-ups of one owner (or of everybody), earliest due first."""
    query = select(FollowUp).where(FollowUp.status == "open")
    if owner_id is not None:
        query = query.where(FollowUp.owner_id == owner_id)
    return session.scalars(
        query.order_by(FollowUp.due_on.is_(None), FollowUp.due_on, FollowUp.id)
    ).all()


def numbers(ids: set[int], *, session: Session) -> dict[int, int]:
    """Return incident numbers by incident id."""
    if not ids:
        return {}
    rows = session.execute(select(Incident.id, Incident.number).where(Incident.id.in_(ids)))
    return {incident_id: number for incident_id, number in rows}


def private_ids(ids: set[int], *, session: Session) -> set[int]:
    """Return which of these incidents are private."""
    if not ids:
        return set()
    return set(
        session.scalars(
            select(Incident.id).where(Incident.id.in_(ids), Incident.is_private.is_(True))
        )
    )


def backlog(*, session: Session, since: datetime, until: datetime) -> dict[str, int]:
    """Count follow-ups of non-drill incidents: opened and done in [since, until), overdue at until.

    Overdue: due before the day `until` falls on (UTC), and not closed by `until`.
    """
    still_open = or_(FollowUp.closed_at.is_(None), FollowUp.closed_at >= until)
    row = session.execute(
        select(
            func.count().filter(and_(FollowUp.created_at >= since, FollowUp.created_at < until)),
            func.count().filter(
                and_(
                    FollowUp.status == "done",
                    FollowUp.closed_at >= since,
                    FollowUp.closed_at < until,
                )
            ),
            func.count().filter(
                and_(
                    FollowUp.created_at < until,
                    FollowUp.due_on < until.date(),
                    still_open,
                )
            ),
        )
        .join(Incident, Incident.id == FollowUp.incident_id)
        .where(Incident.is_drill == false())
    ).one()
    return {"opened": int(row[0]), "done": int(row[1]), "overdue": int(row[2])}
