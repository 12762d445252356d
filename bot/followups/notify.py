"""Telling owners about their follow-ups, through the outbox: assignment DMs and due-date nudges.

Exactly once, as with the incident nudges: a nudge is an outbox row keyed by follow-up and due
time, so a pass (or a second process) that plans it again records nothing new. The first nudge
is due at NUDGE_HOUR on the due date in DEFAULT_TIMEZONE (or when a snooze ends), then every
FOLLOWUP_NUDGE_AFTER while the item is open; once FOLLOWUP_ESCALATE_AFTER nudges went
unanswered, the next due time also posts the item to MANAGERS_CHANNEL, once per follow-up.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db import session_scope, utcnow
from bot.followups.models import FollowUp
from bot.incidents.domain import incident_label
from bot.incidents.models import Incident
from bot.outbox import service as outbox
from bot.outbox.models import OutboxMessage
from bot.outbox.service import Claimed, Outgoing
from bot.settings import Settings
from bot.slack.blocks.followups import nudge_blocks, owner_dm_blocks
from bot.text import neutralise, truncate

if TYPE_CHECKING:
    from bot.deps import Deps

ASSIGNED = "followup_assigned"
NUDGE = "followup_nudge"
ESCALATION = "followup_escalation"
KINDS = (ASSIGNED, NUDGE, ESCALATION)
NUDGE_HOUR = time(9, 0)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def key_prefix(incident_id: int, followup_id: int) -> str:
    """Return the start of every outbox key of one follow-up."""
    return f"{incident_id}:followup:{followup_id}"


def assigned_row(row: FollowUp, number: int, assigner_id: str) -> Outgoing:
    """Return the DM telling an owner that someone else gave them a follow-up."""
    due = f", due {row.due_on.isoformat()}" if row.due_on else ""
    text = (
        f"<@{assigner_id}> gave you follow-up {row.label} of {incident_label(number)}{due}: "
        f"{truncate(neutralise(row.text), 500)}"
    )
    return Outgoing(
        key=f"{key_prefix(row.incident_id, row.id)}:assigned",
        kind=ASSIGNED,
        target=row.owner_id,
        text=text,
        blocks=owner_dm_blocks(text, row.id),
        incident_id=row.incident_id,
        payload={"followup_id": row.id},
    )


def first_nudge_at(due_on: date, timezone: str) -> datetime:
    """Return when the first nudge of a due date is due: NUDGE_HOUR that day, in UTC."""
    local = datetime.combine(due_on, NUDGE_HOUR, tzinfo=ZoneInfo(timezone))
    return local.astimezone(UTC)


def nudge_point(
    due_on: date, snoozed_until: datetime | None, *, settings: Settings, now: datetime
) -> datetime | None:
    """Return the latest nudge time at or before now (None before the first one)."""
    anchor = first_nudge_at(due_on, settings.default_timezone)
    if snoozed_until is not None and snoozed_until > anchor:
        anchor = snoozed_until
    if now < anchor:
        return None
    interval = settings.followup_nudge_after
    return anchor + interval * int((now - anchor) / interval)


def record_due(session: Session, settings: Settings, now: datetime) -> list[str]:
    """Record the nudges (and escalations) due now for open follow-ups past their due date."""
    today = now.astimezone(ZoneInfo(settings.default_timezone)).date()
    rows = session.execute(
        select(FollowUp, Incident.number, Incident.is_private)
        .join(Incident, Incident.id == FollowUp.incident_id)
        .where(FollowUp.status == "open", FollowUp.due_on <= today)
    ).all()
    if not rows:
        return []
    sent = _sent_nudges(session, {r[0].incident_id for r in rows})
    out: list[Outgoing] = []
    for item, number, private in rows:
        assert item.due_on is not None
        point = nudge_point(item.due_on, item.snoozed_until, settings=settings, now=now)
        if point is None:
            continue
        prefix = key_prefix(item.incident_id, item.id)
        key = f"{prefix}:nudge:{point.isoformat()}"
        # A snooze answers the reminders before it.
        since = item.snoozed_until or EPOCH
        count = len([k for k, at in sent.get(item.id, []) if k != key and at >= since])
        text = _nudge_text(item, number, overdue=item.due_on < today)
        out.append(
            Outgoing(
                key=key,
                kind=NUDGE,
                target=item.owner_id,
                text=text,
                blocks=nudge_blocks(text, item.id),
                incident_id=item.incident_id,
                due_at=point,
                payload={"followup_id": item.id},
            )
        )
        if count >= settings.followup_escalate_after and settings.managers_channel:
            out.append(_escalation(item, number, count, private, settings.managers_channel, point))
    return outbox.enqueue(out, session=session)


def _nudge_text(item: FollowUp, number: int, *, overdue: bool) -> str:
    assert item.due_on is not None
    when = f"was due {item.due_on.isoformat()}" if overdue else "is due today"
    text = truncate(neutralise(item.text), 500)
    return f"Follow-up {item.label} of {incident_label(number)} {when}: {text}"


def _escalation(
    item: FollowUp, number: int, nudges: int, private: bool, channel: str, point: datetime
) -> Outgoing:
    assert item.due_on is not None
    # A private incident's follow-up text may say what happened; managers get the id only.
    what = "" if private else f": {truncate(neutralise(item.text), 500)}"
    text = (
        f":warning: Follow-up {item.label} of {incident_label(number)} "
        f"(owner <@{item.owner_id}>) was due "
        f"{item.due_on.isoformat()} and is still open after {nudges} reminders{what}"
    )
    return Outgoing(
        key=f"{key_prefix(item.incident_id, item.id)}:escalation",
        kind=ESCALATION,
        target=channel,
        text=text,
        incident_id=item.incident_id,
        due_at=point,
        payload={"followup_id": item.id},
    )


def _sent_nudges(session: Session, incident_ids: set[int]) -> dict[int, list[tuple[str, datetime]]]:
    """Return the keys and due times of nudges actually sent (not closed), by follow-up id."""
    found: dict[int, list[tuple[str, datetime]]] = {}
    rows = session.execute(
        select(OutboxMessage.key, OutboxMessage.due_at, OutboxMessage.payload).where(
            OutboxMessage.kind == NUDGE,
            OutboxMessage.incident_id.in_(incident_ids),
            OutboxMessage.sent_at.is_not(None),
            OutboxMessage.last_error.is_(None),
        )
    )
    for key, due_at, payload in rows:
        followup_id = int((payload or {}).get("followup_id", 0))
        found.setdefault(followup_id, []).append((key, due_at))
    return found


def run_followup_nudges(deps: Deps, now: datetime | None = None) -> int:
    """Record the due follow-up nudges and send them (the scheduler job); return how many sent."""
    now = now or utcnow()
    with session_scope(deps.session_factory) as session:
        record_due(session, deps.settings, now)
    return deps.outbox.deliver_due(kinds=KINDS, now=now).sent


def closed_meanwhile(batch: list[Claimed], session: Session, now: datetime) -> dict[str, str]:
    """Close DMs and nudges of follow-ups done, dropped or snoozed since they were recorded."""
    ids = {int((c.payload or {}).get("followup_id", 0)) for c in batch}
    rows = {r.id: r for r in session.scalars(select(FollowUp).where(FollowUp.id.in_(ids))).all()}
    closed: dict[str, str] = {}
    for item in batch:
        row = rows.get(int((item.payload or {}).get("followup_id", 0)))
        if row is None:
            closed[item.key] = "the follow-up is gone"
        elif row.status != "open":
            closed[item.key] = f"the follow-up is {row.status}"
        elif item.kind == NUDGE and row.snoozed_until and row.snoozed_until > item.due_at:
            closed[item.key] = "the follow-up was snoozed"
    return closed
