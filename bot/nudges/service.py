"""Data access for nudges. Every function takes a keyword-only session."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from bot.db import upsert_insert
from bot.incidents.models import Incident
from bot.incidents.privacy import shown_title
from bot.nudges.models import Meeting, NudgeSchedule
from bot.nudges.rules import ALL_KINDS, GRID_KINDS, Facts
from bot.outbox.models import OutboxMessage
from bot.postmortems.models import Postmortem

_S, _I, _P, _M = NudgeSchedule, Incident, Postmortem, Meeting


def _facts(
    session: Session, *conditions: Any, order: Any = None, limit: int | None = None
) -> list[Facts]:
    pm_status = func.coalesce(_P.status, "Draft")
    query = (
        select(
            _I.id,
            _I.number,
            _I.title,
            _I.severity,
            _I.status,
            _I.channel_id,
            _I.declared_at,
            _I.last_human_message_at,
            _I.last_update_at,
            _I.resolved_at,
            _I.commander_id,
            _I.comms_id,
            _I.reporter_id,
            _I.announcement_channel_id,
            _I.announcement_ts,
            _P.meeting_at,
            pm_status,
            _M.cancelled_at,
            _S.snooze_until,
            _S.snoozed_at,
            _I.is_private,
        )
        .outerjoin(_S, _S.incident_id == _I.id)
        .outerjoin(_P, _P.incident_id == _I.id)
        .outerjoin(_M, _M.incident_id == _I.id)
        .where(_I.channel_id.is_not(None), *conditions)
    )
    if order is not None:
        query = query.order_by(order)
    if limit is not None:
        query = query.limit(limit)
    facts = [
        Facts(
            incident_id=r[0],
            number=r[1],
            title=shown_title(r[2], private=r[20]),  # nudges may reach MANAGERS_CHANNEL
            severity=r[3],
            status=r[4],
            channel_id=r[5],
            declared_at=r[6],
            last_human_message_at=r[7],
            last_update_at=r[8],
            resolved_at=r[9],
            commander_id=r[10],
            comms_id=r[11],
            reporter_id=r[12],
            announcement_channel_id=r[13],
            announcement_ts=r[14],
            meeting_at=r[15],
            postmortem_status=r[16],
            meeting_cancelled_at=r[17],
            snooze_until=r[18],
            snoozed_at=r[19],
        )
        for r in session.execute(query).all()
    ]
    sent = sent_due_times([f.incident_id for f in facts], session=session)
    return [Facts(**{**f.__dict__, "sent": sent.get(f.incident_id, {})}) for f in facts]


def candidates(*, session: Session, now: datetime, limit: int = 1000) -> list[Facts]:
    """Return the facts of incidents that are due, or whose facts changed since last planned."""
    pm_status = func.coalesce(_P.status, "Draft")
    changed = or_(
        _S.incident_id.is_(None),
        _S.dirty.is_(True),
        _S.next_due_at <= now,
        _I.last_human_message_at > _S.seen_activity_at,
        _I.last_update_at > _S.seen_activity_at,
        _I.severity != _S.seen_severity,
        _I.status != _S.seen_status,
        _P.meeting_at.is_distinct_from(_S.seen_meeting_at),
        pm_status != _S.seen_postmortem_status,
    )
    return _facts(session, changed, order=_S.next_due_at, limit=limit)


def facts_for(incident_ids: Sequence[int], *, session: Session) -> dict[int, Facts]:
    """Return the current facts of these incidents."""
    if not incident_ids:
        return {}
    return {f.incident_id: f for f in _facts(session, _I.id.in_(list(incident_ids)))}


def sent_due_times(
    incident_ids: Sequence[int], *, session: Session
) -> dict[int, dict[str, list[datetime]]]:
    """Return the due times of the nudges recorded for these incidents, by incident and kind."""
    found: dict[int, dict[str, list[datetime]]] = defaultdict(lambda: defaultdict(list))
    if not incident_ids:
        return {}
    rows = session.execute(
        select(OutboxMessage.incident_id, OutboxMessage.kind, OutboxMessage.due_at)
        .where(OutboxMessage.incident_id.in_(incident_ids))
        .where(OutboxMessage.kind.in_(GRID_KINDS))
    ).all()
    for incident_id, kind, due_at in rows:
        if incident_id is not None:
            found[incident_id][kind].append(due_at)
    return found


def save_schedules(
    planned: list[tuple[Facts, datetime | None]], *, session: Session, known: set[int]
) -> None:
    """Store each incident's next due time and the facts it was computed from."""
    rows = [
        {
            "incident_id": f.incident_id,
            "next_due_at": next_due_at,
            "seen_activity_at": f.activity_at,
            "seen_severity": f.severity,
            "seen_status": f.status,
            "seen_meeting_at": f.meeting_at,
            "seen_postmortem_status": f.postmortem_status,
            "dirty": False,
        }
        for f, next_due_at in planned
    ]
    existing = [r for r in rows if r["incident_id"] in known]
    fresh = [r for r in rows if r["incident_id"] not in known]
    if existing:
        session.execute(update(NudgeSchedule), existing)
    if fresh:
        stmt = upsert_insert(session, NudgeSchedule).on_conflict_do_nothing(
            index_elements=["incident_id"]
        )
        session.execute(stmt, fresh)


def scheduled_ids(incident_ids: Sequence[int], *, session: Session) -> set[int]:
    """Return which of these incidents already have a schedule row."""
    if not incident_ids:
        return set()
    return set(
        session.scalars(
            select(NudgeSchedule.incident_id).where(NudgeSchedule.incident_id.in_(incident_ids))
        ).all()
    )


def mark_dirty(incident_id: int, *, session: Session) -> None:
    """Make the next pass recompute an incident's due times."""
    stmt = upsert_insert(session, NudgeSchedule).values(incident_id=incident_id, dirty=True)
    session.execute(
        stmt.on_conflict_do_update(index_elements=["incident_id"], set_={"dirty": True})
    )


def snooze(incident_id: int, *, session: Session, until: datetime, by: str, now: datetime) -> None:
    """Silence update nudges until a time (stored, so it survives restarts)."""
    mark_dirty(incident_id, session=session)
    session.execute(
        update(NudgeSchedule)
        .where(NudgeSchedule.incident_id == incident_id)
        .values(snooze_until=until, snoozed_at=now, snoozed_by=by)
    )


def meeting(incident_id: int, *, session: Session) -> Meeting | None:
    """Return the Slack-side details of an incident's postmortem meeting."""
    return session.get(Meeting, incident_id)


def deliveries(incident_id: int, *, session: Session) -> Sequence[OutboxMessage]:
    """Return every nudge recorded for an incident, by due time."""
    return session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.incident_id == incident_id)
        .where(OutboxMessage.kind.in_(ALL_KINDS))
        .order_by(OutboxMessage.due_at, OutboxMessage.kind)
    ).all()
