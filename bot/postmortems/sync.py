"""Read postmortem pages back from Notion: Status Complete and the Meeting date feed the nudges."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from bot.db import session_scope, utcnow
from bot.integrations.ports import NotionPort
from bot.postmortems import service
from bot.settings import Settings

# Notion rounds last_edited_time down to the minute, so re-read a little before the cursor.
OVERLAP = timedelta(minutes=2)
OPEN = ("Draft", "In review")


@dataclass
class SyncSummary:
    """What a sync pass saw and changed."""

    pages_seen: int = 0
    completed: list[int] = field(default_factory=list)
    meetings: list[int] = field(default_factory=list)
    status_changes: list[int] = field(default_factory=list)
    unknown_pages: int = 0


def parse_notion_date(value: str, timezone: str) -> datetime:
    """Parse a Notion date start (a date or a datetime); a bare date means 09:00 team time."""
    if len(value) == 10:
        day = datetime.fromisoformat(value).date()
        return datetime.combine(day, time(9, 0), ZoneInfo(timezone)).astimezone(UTC)
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def sync_from_notion(
    *,
    session_factory: sessionmaker[Session],
    notion: NotionPort | None,
    settings: Settings,
    now: datetime | None = None,
    database_id: str | None = None,
) -> SyncSummary:
    """Apply the Status and Meeting of pages edited since the last sync to our postmortem rows.

    `database_id` defaults to NOTION_POSTMORTEM_DATABASE_ID (the private database is another).
    """
    summary = SyncSummary()
    database_id = database_id or settings.notion_postmortem_database_id
    if notion is None or not database_id:
        return summary
    now = now or utcnow()
    source = notion.data_source_id(database_id)
    with session_scope(session_factory) as session:
        cursor = service.sync_cursor(source, session=session)
    since = (cursor - OVERLAP) if cursor else datetime(2000, 1, 1, tzinfo=UTC)
    pages = notion.pages_edited_since(source, since)
    with session_scope(session_factory) as session:
        for page in pages:
            summary.pages_seen += 1
            number = page.properties.get("Incident")
            postmortem = (
                service.by_incident_number(int(number), session=session)
                if isinstance(number, int | float)
                else None
            )
            if postmortem is None:
                summary.unknown_pages += 1
                continue
            if postmortem.notion_page_id is None:
                postmortem.notion_page_id, postmortem.notion_url = page.id, page.url
            status = page.properties.get("Status")
            if status == "Complete" and postmortem.status != "Complete":
                service.mark_complete(
                    postmortem.incident_id, session=session, source="notion", at=now
                )
                summary.completed.append(postmortem.incident_id)
            elif status in OPEN and postmortem.status in OPEN and status != postmortem.status:
                # Draft <-> In review is mirrored; a completion is never undone from Notion.
                postmortem.status = status
                summary.status_changes.append(postmortem.incident_id)
            meeting = page.properties.get("Meeting")
            meeting_at = parse_notion_date(meeting, settings.default_timezone) if meeting else None
            if meeting_at and meeting_at != postmortem.meeting_at:
                service.record_meeting(
                    postmortem.incident_id, meeting_at, session=session, source="notion"
                )
                summary.meetings.append(postmortem.incident_id)
            elif not meeting_at and postmortem.meeting_source == "notion":
                service.record_meeting(
                    postmortem.incident_id, None, session=session, source="notion"
                )
                summary.meetings.append(postmortem.incident_id)
            postmortem.notion_synced_at = now
        service.set_sync_cursor(source, now, session=session)
    return summary
