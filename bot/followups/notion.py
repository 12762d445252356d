"""Follow-ups in Notion: one page each in the Follow-ups database, and their edits read back.

A follow-up is pushed once its incident's postmortem page exists (its Incident relation points
there) and again after every change in Slack (``notion_pending``). The read-back applies Status,
Owner and Due edited in Notion to follow-ups with no Slack change waiting to be pushed, so the
newer side wins. Follow-ups of private incidents stay out of this shared database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import false, select
from sqlalchemy.orm import Session

from bot.db import session_scope, utcnow
from bot.followups.models import FollowUp
from bot.incidents import service as incidents
from bot.incidents.models import Incident
from bot.integrations.ports import ChatPort, IntegrationError, NotionPort
from bot.postmortems import service as postmortems
from bot.postmortems.models import Postmortem
from bot.settings import Settings

log = structlog.get_logger(__name__)

STATUS_NAMES = {"open": "Open", "done": "Done", "wont_do": "Won't do"}
STATUS_OF = {name: status for status, name in STATUS_NAMES.items()}
OVERLAP = timedelta(minutes=2)  # Notion rounds last_edited_time down to the minute
BATCH = 50


def followups_schema(postmortem_source: str) -> dict[str, dict[str, Any]]:
    """Return the Follow-ups database schema, its Incident relating to the postmortems."""
    return {
        "Name": {"title": {}},
        "Owner": {"people": {}},
        "Due": {"date": {}},
        "Status": {
            "select": {
                "options": [
                    {"name": "Open", "color": "yellow"},
                    {"name": "Done", "color": "green"},
                    {"name": "Won't do", "color": "gray"},
                ]
            }
        },
        "Ticket": {"url": {}},
        "Incident": {
            "relation": {
                "data_source_id": postmortem_source,
                "type": "single_property",
                "single_property": {},
            }
        },
    }


FOLLOWUP_TYPES = {
    "Name": "title",
    "Owner": "people",
    "Due": "date",
    "Status": "select",
    "Ticket": "url",
    "Incident": "relation",
}


def check_followups_database(notion: NotionPort, database_id: str) -> list[str]:
    """Return the schema problems of an existing Follow-ups database."""
    actual = notion.schema(notion.data_source_id(database_id))
    problems = []
    for name, kind in FOLLOWUP_TYPES.items():
        if name not in actual:
            problems.append(f"property {name!r} is missing; add it with type {kind}")
        elif actual[name] != kind:
            problems.append(f"property {name!r} has type {actual[name]}; change it to {kind}")
    return problems


@dataclass
class FollowUpSync:
    """What one push-and-read-back pass did."""

    pushed: list[int] = field(default_factory=list)
    created_for: set[int] = field(default_factory=set)  # incidents whose list gained a link
    read_back: list[int] = field(default_factory=list)
    failed: int = 0


def _owner_person(notion: NotionPort, chat: ChatPort, owner_id: str) -> list[dict[str, str]]:
    try:
        email = chat.user(owner_id).email
        person = notion.user_id_by_email(email) if email else None
    except IntegrationError:
        return []
    return [{"id": person}] if person else []


def page_properties(
    item: FollowUp, postmortem_page: str, owner: list[dict[str, str]]
) -> dict[str, Any]:
    """Return the Notion properties of a follow-up."""
    name = f"{item.label} {item.text}"[:2000]
    properties: dict[str, Any] = {
        "Name": {"title": [{"type": "text", "text": {"content": name}}]},
        "Status": {"select": {"name": STATUS_NAMES[item.status]}},
        "Due": {"date": {"start": item.due_on.isoformat()} if item.due_on else None},
        "Ticket": {"url": item.ticket_url},
        "Incident": {"relation": [{"id": postmortem_page}]},
    }
    if owner:
        properties["Owner"] = {"people": owner}
    return properties


def push_pending(
    *,
    session_factory: Callable[[], Session],
    notion: NotionPort,
    chat: ChatPort,
    database_id: str,
) -> FollowUpSync:
    """Create or update the pages of follow-ups changed in Slack since their last push."""
    summary = FollowUpSync()
    source = notion.data_source_id(database_id)
    with session_scope(session_factory) as session:  # type: ignore[arg-type]
        rows = session.execute(
            select(FollowUp, Postmortem.notion_page_id)
            .join(Incident, Incident.id == FollowUp.incident_id)
            .join(Postmortem, Postmortem.incident_id == FollowUp.incident_id)
            .where(
                FollowUp.notion_pending.is_(True),
                Incident.is_private == false(),
                Postmortem.notion_page_id.is_not(None),
            )
            .order_by(FollowUp.id)
            .limit(BATCH)
        ).all()
        work = [(item, page) for item, page in rows]
        session.expunge_all()
    for item, postmortem_page in work:
        properties = page_properties(
            item, str(postmortem_page), _owner_person(notion, chat, item.owner_id)
        )
        try:
            if item.notion_page_id:
                notion.update_page(item.notion_page_id, properties)
                page_id, url = item.notion_page_id, item.notion_url
            else:
                # A run killed after Notion created the page never recorded it: adopt that one.
                found = notion.find_page_by_title(
                    source, title_property="Name", starts_with=f"{item.label} "
                )
                if found is not None:
                    notion.update_page(found.id, properties)
                    page_id, url = found.id, found.url
                else:
                    created = notion.create_page(source, properties, [])
                    page_id, url = created.id, created.url
                summary.created_for.add(item.incident_id)
        except IntegrationError as exc:
            summary.failed += 1
            log.warning("followup_notion_push_failed", followup=item.id, problem=str(exc))
            continue
        with session_scope(session_factory) as session:  # type: ignore[arg-type]
            row = session.get(FollowUp, item.id)
            if row is None:
                continue
            row.notion_page_id, row.notion_url = page_id, url
            # A change made while we pushed stays pending (its push comes next pass).
            if (row.status, row.owner_id, row.due_on) == (item.status, item.owner_id, item.due_on):
                row.notion_pending = False
        summary.pushed.append(item.id)
    return summary


def read_back(
    *,
    session_factory: Callable[[], Session],
    notion: NotionPort,
    chat: ChatPort,
    database_id: str,
    now: datetime,
    summary: FollowUpSync,
) -> None:
    """Apply Status, Owner and Due edited in Notion since the last pass."""
    source = notion.data_source_id(database_id)
    with session_scope(session_factory) as session:  # type: ignore[arg-type]
        cursor = postmortems.sync_cursor(source, session=session)
    since = (cursor - OVERLAP) if cursor else datetime(2000, 1, 1, tzinfo=UTC)
    pages = notion.pages_edited_since(source, since)
    owners = {p.id: _slack_owner(notion, chat, p.properties.get("Owner")) for p in pages}
    with session_scope(session_factory) as session:  # type: ignore[arg-type]
        for page in pages:
            row = session.scalar(select(FollowUp).where(FollowUp.notion_page_id == page.id))
            if row is None or row.notion_pending:
                continue
            changed = _apply(row, page.properties, owners.get(page.id), session=session)
            if changed:
                summary.read_back.append(row.id)
        postmortems.set_sync_cursor(source, now, session=session)


def _slack_owner(notion: NotionPort, chat: ChatPort, people: object) -> str | None:
    if not isinstance(people, list) or not people:
        return None
    try:
        email = notion.email_of_user(str(people[0]))
        found = chat.user_by_email(email) if email else None
    except IntegrationError:
        return None
    return found.id if found else None


def _apply(
    row: FollowUp, properties: dict[str, Any], owner: str | None, *, session: Session
) -> bool:
    changes: list[str] = []
    status = STATUS_OF.get(str(properties.get("Status")))
    if status and status != row.status:
        row.status = status
        row.closed_at, row.closed_by = (None, None) if status == "open" else (utcnow(), None)
        changes.append(f"status {STATUS_NAMES[status]}")
    raw_due = properties.get("Due")
    due = date.fromisoformat(str(raw_due)[:10]) if raw_due else None
    if due != row.due_on:
        row.due_on = due
        changes.append(f"due {due.isoformat() if due else 'none'}")
    if owner and owner != row.owner_id:
        row.owner_id = owner
        changes.append(f"owner <@{owner}>")
    if changes:
        incidents.add_timeline_entry(
            row.incident_id,
            session=session,
            kind="followup_notion",
            text=f"Follow-up {row.label} changed in Notion: {', '.join(changes)}",
            actor_id=None,
            data={"followup_id": row.id, "changes": changes},
        )
    return bool(changes)


def sync_followups(
    *,
    session_factory: Callable[[], Session],
    notion: NotionPort | None,
    chat: ChatPort,
    settings: Settings,
    now: datetime | None = None,
) -> FollowUpSync:
    """Push follow-ups changed in Slack, then read back those edited in Notion."""
    summary = FollowUpSync()
    database = settings.notion_followups_database_id
    if notion is None or not database:
        return summary
    summary = push_pending(
        session_factory=session_factory, notion=notion, chat=chat, database_id=database
    )
    read_back(
        session_factory=session_factory,
        notion=notion,
        chat=chat,
        database_id=database,
        now=now or utcnow(),
        summary=summary,
    )
    return summary
