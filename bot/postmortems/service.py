"""Data access for postmortems. Every function takes a keyword-only session."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.db import upsert_insert, utcnow
from bot.incidents.models import Incident
from bot.postmortems.models import NotionSyncCursor, Postmortem


def get(incident_id: int, *, session: Session) -> Postmortem | None:
    """Return an incident's postmortem, if it is tracked."""
    return session.scalar(select(Postmortem).where(Postmortem.incident_id == incident_id))


def get_or_create(incident_id: int, *, session: Session) -> Postmortem:
    """Return an incident's postmortem, creating the Draft row once (safe under races)."""
    stmt = upsert_insert(session, Postmortem).values(
        incident_id=incident_id, status="Draft", created_at=utcnow(), regions={}
    )
    session.execute(stmt.on_conflict_do_nothing(index_elements=["incident_id"]))
    found = get(incident_id, session=session)
    assert found is not None
    return found


def by_incident_number(number: int, *, session: Session) -> Postmortem | None:
    """Return the postmortem of the incident with this number."""
    return session.scalar(
        select(Postmortem)
        .join(Incident, Incident.id == Postmortem.incident_id)
        .where(Incident.number == number)
    )


def release_export_leases(*, session: Session) -> int:
    """Drop every export lease (a single-process database at start-up); return how many."""
    result = session.execute(
        update(Postmortem)
        .where(Postmortem.export_lease_until.is_not(None))
        .values(export_lease_until=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def claim_export(incident_id: int, *, session: Session, now: datetime, lease: timedelta) -> bool:
    """Take the export lease of a postmortem; return False when another worker holds it."""
    result = session.execute(
        update(Postmortem)
        .where(Postmortem.incident_id == incident_id)
        .where((Postmortem.export_lease_until.is_(None)) | (Postmortem.export_lease_until < now))
        .values(export_lease_until=now + lease)
    )
    return bool(getattr(result, "rowcount", 0))


def due_exports(*, session: Session, now: datetime, limit: int = 20) -> Sequence[int]:
    """Return incident ids whose queued export is due, oldest first."""
    return session.scalars(
        select(Postmortem.incident_id)
        .where(Postmortem.export_pending.is_(True))
        .where((Postmortem.next_export_at.is_(None)) | (Postmortem.next_export_at <= now))
        .order_by(Postmortem.next_export_at, Postmortem.id)
        .limit(limit)
    ).all()


def record_meeting(
    incident_id: int, meeting_at: datetime | None, *, session: Session, source: str = "slack"
) -> Postmortem:
    """Record (or clear) the postmortem meeting time."""
    postmortem = get_or_create(incident_id, session=session)
    postmortem.meeting_at = meeting_at
    postmortem.meeting_source = source if meeting_at else None
    if meeting_at is not None and postmortem.meeting_booked_at is None:
        postmortem.meeting_booked_at = utcnow()
    return postmortem


def mark_complete(
    incident_id: int, *, session: Session, source: str = "slack", at: datetime | None = None
) -> Postmortem:
    """Mark the postmortem complete (idempotent: the first completion time is kept)."""
    postmortem = get_or_create(incident_id, session=session)
    if postmortem.status != "Complete":
        postmortem.status = "Complete"
        postmortem.completed_at = at or utcnow()
        postmortem.completed_via = source
    return postmortem


def pagerduty_url(incident_id: int, *, session: Session) -> str | None:
    """Return the web link of the first PagerDuty incident linked to this incident, if any."""
    from bot.pagerduty.models import PagerDutyLink

    return session.scalar(
        select(PagerDutyLink.html_url)
        .where(PagerDutyLink.incident_id == incident_id)
        .where(PagerDutyLink.html_url != "")
        .order_by(PagerDutyLink.linked_at, PagerDutyLink.id)
        .limit(1)
    )


def resolved_without_postmortem(*, session: Session, since: datetime) -> Sequence[int]:
    """Return ids of incidents resolved since `since` that have no postmortem row yet."""
    return session.scalars(
        select(Incident.id)
        .outerjoin(Postmortem, Postmortem.incident_id == Incident.id)
        .where(Incident.status == "resolved")
        .where(Incident.resolved_at >= since)
        .where(Postmortem.id.is_(None))
        .order_by(Incident.id)
    ).all()


def enqueue_export(incident_id: int, *, session: Session) -> Postmortem:
    """Track the postmortem and queue its export for the next retry pass."""
    postmortem = get_or_create(incident_id, session=session)
    postmortem.export_pending = True
    postmortem.next_export_at = None
    return postmortem


def sync_cursor(data_source_id: str, *, session: Session) -> datetime | None:
    """Return how far the Notion read-back has got for a data source."""
    cursor = session.get(NotionSyncCursor, data_source_id)
    return cursor.synced_until if cursor else None


def set_sync_cursor(data_source_id: str, until: datetime, *, session: Session) -> None:
    """Move the Notion read-back cursor."""
    cursor = session.get(NotionSyncCursor, data_source_id)
    if cursor is None:
        session.add(NotionSyncCursor(data_source_id=data_source_id, synced_until=until))
    else:
        cursor.synced_until = until


def list_with_incidents(*, session: Session) -> Sequence[tuple[Postmortem, Incident]]:
    """Return every postmortem with its incident, newest incident first."""
    rows = session.execute(
        select(Postmortem, Incident)
        .join(Incident, Incident.id == Postmortem.incident_id)
        .order_by(Incident.number.desc())
    ).all()
    return [(row[0], row[1]) for row in rows]
