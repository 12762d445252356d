"""Follow-up use cases: parse the command text, add, close and list follow-ups."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.db import session_scope, utcnow
from bot.followups import notify, service
from bot.followups.models import FollowUp
from bot.incidents import service as incidents
from bot.incidents.domain import InvalidInput, incident_label
from bot.incidents.flows import channel_incident
from bot.outbox import service as outbox

PRIVATE_TEXT = "(a follow-up of a private incident)"
ADD_USAGE = "/incident followup <text> [@owner] [due YYYY-MM-DD]"
CLOSE_USAGE = "/incident followup done <id>"
TEXT_LIMIT = 1000
_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_DIGIT = re.compile(r"\d")
_ID = re.compile(r"^(?:FU-?)?(\d{1,9})$", re.IGNORECASE)
CLOSE_WORDS = {"done": "done", "wontdo": "wont_do", "won't": "wont_do", "wont": "wont_do"}
STATUS_WORDS = {"done": "done", "wont_do": "won't do"}  # how a closing is told to people


@dataclass(frozen=True)
class NewFollowUp:
    """What `/incident followup …` asked for."""

    text: str
    owner_id: str | None
    due_on: date | None


@dataclass(frozen=True)
class FollowUpView:
    """A follow-up as listed to people."""

    id: int
    label: str
    text: str
    owner_id: str
    due_on: date | None
    status: str
    incident_number: int
    overdue: bool


def parse_new(args: str, *, today: date) -> NewFollowUp:
    """Split '<text> [@owner] [due YYYY-MM-DD]' (owner and due in either order, at the end)."""
    words = args.split()
    owner: str | None = None
    due: date | None = None
    while len(words) > 1:
        mention = _MENTION.match(words[-1])
        if mention and owner is None:
            owner = mention.group(1)
            words.pop()
        elif words[-2].lower() == "due" and due is None and _DIGIT.search(words[-1]):
            # "due 2026-12-01" is a date; "… is due today" is just text.
            try:
                due = date.fromisoformat(words[-1])
            except ValueError as exc:
                raise InvalidInput(
                    f"`{words[-1]}` is not a date; write the due date as YYYY-MM-DD, "
                    f"e.g. `due {today.isoformat()}`."
                ) from exc
            if due < today:
                raise InvalidInput(f"The due date {due.isoformat()} is in the past.")
            del words[-2:]
        else:
            break
    text = " ".join(words)
    if not text or _MENTION.match(text):
        raise InvalidInput(f"Say what needs doing: `{ADD_USAGE}`.")
    if len(text) > TEXT_LIMIT:
        raise InvalidInput(
            f"A follow-up is at most {TEXT_LIMIT} characters; this one is {len(text)}."
        )
    return NewFollowUp(text, owner, due)


def parse_close(args: str) -> tuple[str, int] | None:
    """Return (status, id) for 'done <id>' or "wontdo <id>", or None when it is follow-up text."""
    first, _, rest = args.strip().partition(" ")
    rest = rest.strip()
    if first.lower() == "won't" and rest.lower().startswith("do "):
        rest = rest[3:].strip()
    status = CLOSE_WORDS.get(first.lower())
    if status and not rest:
        raise InvalidInput(f"Say which follow-up: `{CLOSE_USAGE}` (e.g. `done FU-3`).")
    match = _ID.match(rest) if status else None
    return (status, int(match.group(1))) if status and match else None


def today_in(timezone: str) -> date:
    """Return today's date in the team's time zone."""
    return utcnow().astimezone(ZoneInfo(timezone)).date()


def add_followup(
    channel_id: str,
    user_id: str,
    new: NewFollowUp,
    *,
    request_key: str,
    session_factory: Callable[[], Session],
    incident_id: int | None = None,
) -> tuple[FollowUpView, bool, list[str]]:
    """Record a follow-up of the channel's (or a given) incident, its timeline entry and the
    owner's DM when someone else assigned it; return it, whether it is new and the outbox keys.
    """
    with session_scope(session_factory) as session:  # type: ignore[arg-type]
        found = (
            incidents.get(incident_id, session=session)
            if incident_id is not None
            else channel_incident(channel_id, session=session, usage=ADD_USAGE)
        )
        if found is None:
            raise InvalidInput(f"There is no incident {incident_id}.")
        incident = found
        row, created = service.create(
            session=session,
            incident_id=incident.id,
            text=new.text,
            owner_id=new.owner_id or user_id,
            due_on=new.due_on,
            created_by=user_id,
            request_key=request_key,
        )
        if created:
            due = f", due {row.due_on.isoformat()}" if row.due_on else ""
            incidents.add_timeline_entry(
                incident.id,
                session=session,
                kind="followup",
                text=f"Follow-up {row.label} for <@{row.owner_id}>{due}: {row.text}",
                actor_id=user_id,
                dedupe_key=f"followup:{row.id}",
                data={
                    "followup_id": row.id,
                    "owner": row.owner_id,
                    "due": row.due_on.isoformat() if row.due_on else None,
                },
            )
        keys: list[str] = []
        if created and row.owner_id != user_id:
            keys = outbox.enqueue(
                [notify.assigned_row(row, incident.number, user_id)], session=session
            )
        return _view(row, incident.number, today=None), created, keys


def snooze_followup(
    followup_id: int, user_id: str, *, days: int, session_factory: Callable[[], Session]
) -> FollowUpView:
    """Hold a follow-up's nudges for some days and add it to the timeline."""
    with session_scope(session_factory) as session:  # type: ignore[arg-type]
        row = service.get(followup_id, session=session)
        if row is None:
            raise InvalidInput(f"There is no follow-up FU-{followup_id}.")
        number = service.numbers({row.incident_id}, session=session)[row.incident_id]
        if row.status != "open":
            raise InvalidInput(f"{row.label} is already closed; there is nothing to snooze.")
        row.snoozed_until = utcnow() + timedelta(days=days)
        incidents.add_timeline_entry(
            row.incident_id,
            session=session,
            kind="followup_snoozed",
            text=f"Follow-up {row.label} snoozed for {days} days",
            actor_id=user_id,
            data={"followup_id": row.id, "until": row.snoozed_until.isoformat()},
        )
        return _view(row, number, today=None)


def close_followup(
    followup_id: int, status: str, user_id: str, *, session_factory: Callable[[], Session]
) -> FollowUpView:
    """Mark a follow-up done or won't do (again is fine) and add it to the timeline."""
    with session_scope(session_factory) as session:  # type: ignore[arg-type]
        row = service.get(followup_id, session=session)
        if row is None:
            raise InvalidInput(f"There is no follow-up FU-{followup_id}.")
        number = service.numbers({row.incident_id}, session=session)[row.incident_id]
        if row.status != status:
            was = row.status
            row.status, row.closed_at, row.closed_by = status, utcnow(), user_id
            row.notion_pending = True
            if status == "open":
                row.closed_at = row.closed_by = None
            word = {"done": "done", "wont_do": "won't do", "open": "open"}[status]
            incidents.add_timeline_entry(
                row.incident_id,
                session=session,
                kind=f"followup_{status}",
                text=f"Follow-up {row.label} marked {word}: {row.text}",
                actor_id=user_id,
                data={"followup_id": row.id, "from": was, "to": status},
            )
        return _view(row, number, today=None)


def list_followups(
    scope: str,
    channel_id: str,
    user_id: str,
    *,
    today: date,
    session_factory: Callable[[], Session],
) -> tuple[str, list[FollowUpView]]:
    """Return a heading and the open follow-ups: of this incident, mine, or everybody's."""
    scope = scope.strip().lower()
    if scope not in {"", "mine", "all"}:
        raise InvalidInput("Use `/incident followups`, `/incident followups mine` or `… all`.")
    with session_scope(session_factory) as session:  # type: ignore[arg-type]
        incident = incidents.get_by_channel(channel_id, session=session) if not scope else None
        if incident is not None:
            heading = f"Open follow-ups of {incident_label(incident.number)}"
            rows = list(service.open_for_incident(incident.id, session=session))
        elif scope == "all":
            heading = "All open follow-ups"
            rows = list(service.open_for_owner(None, session=session))
        else:
            heading = "Your open follow-ups"
            rows = list(service.open_for_owner(user_id, session=session))
        found = service.numbers({r.incident_id for r in rows}, session=session)
        views = [_view(r, found[r.incident_id], today=today) for r in rows]
        if scope == "all":  # everybody's list: a private incident's items show no text
            private = service.private_ids({r.incident_id for r in rows}, session=session)
            views = [
                dataclasses.replace(v, text=PRIVATE_TEXT)
                if r.incident_id in private and r.owner_id != user_id
                else v
                for r, v in zip(rows, views, strict=True)
            ]
        return heading, views


def open_followups_of(
    user_id: str, *, today: date, session_factory: Callable[[], Session]
) -> list[FollowUpView]:
    """Return one person's open follow-ups, earliest due first (their App Home section)."""
    _heading, items = list_followups(
        "mine", "", user_id, today=today, session_factory=session_factory
    )
    return items


def _view(row: FollowUp, number: int, *, today: date | None) -> FollowUpView:
    overdue = bool(today and row.due_on and row.status == "open" and row.due_on < today)
    return FollowUpView(
        row.id, row.label, row.text, row.owner_id, row.due_on, row.status, number, overdue
    )


def incident_label_of(incident_id: int, *, session_factory: Callable[[], Session]) -> str | None:
    """Return the label (INC-<number>) of an incident, or None when there is no such incident."""
    with session_scope(session_factory) as session:  # type: ignore[arg-type]
        found = service.numbers({incident_id}, session=session)
        return incident_label(found[incident_id]) if incident_id in found else None
