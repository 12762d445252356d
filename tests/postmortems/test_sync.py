"""Reading Status and Meeting back from Notion, and the digest built from the postmortem rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from bot.db import session_scope
from bot.fakes.notion import FakeNotion
from bot.integrations.notion import NotionAdapter
from bot.postmortems import service
from bot.postmortems.digest import build_digest
from bot.postmortems.export import export_postmortem
from bot.postmortems.sync import sync_from_notion
from bot.settings import Settings
from tests.postmortems.conftest import T0, RecordingChat, make_incident


def _page_of(factory: sessionmaker[Session], incident_id: int) -> str:
    with session_scope(factory) as session:
        row = service.get(incident_id, session=session)
        assert row is not None and row.notion_page_id
        return row.notion_page_id


def test_sync_applies_complete_and_meeting_from_notion_once(
    session_factory: sessionmaker[Session],
    fake_notion: FakeNotion,
    notion: NotionAdapter,
    chat: RecordingChat,
    settings: Settings,
) -> None:
    first = make_incident(session_factory, number=42)
    second = make_incident(session_factory, number=43)
    for incident_id in (first, second):
        export_postmortem(
            incident_id, session_factory=session_factory, notion=notion, chat=chat,
            settings=settings,
        )  # fmt: skip
    sync = {"session_factory": session_factory, "notion": notion, "settings": settings}
    assert sync_from_notion(**sync).completed == []  # type: ignore[arg-type]
    fake_notion.edit_page(
        _page_of(session_factory, first),
        {
            "Status": {"select": {"name": "Complete"}},
            "Meeting": {"date": {"start": "2026-03-05T14:00:00+01:00"}},
        },
    )
    fake_notion.edit_page(
        _page_of(session_factory, second),
        {"Status": {"select": {"name": "In review"}}, "Meeting": {"date": {"start": "2026-03-06"}}},
    )

    summary = sync_from_notion(**sync)  # type: ignore[arg-type]

    assert summary.completed == [first]
    assert sorted(summary.meetings) == sorted([first, second])
    with session_scope(session_factory) as session:
        done = service.get(first, session=session)
        review = service.get(second, session=session)
        assert done is not None and review is not None
        assert (done.status, done.completed_via) == ("Complete", "notion")
        assert done.meeting_at == datetime(2026, 3, 5, 13, 0, tzinfo=UTC)
        assert done.meeting_source == "notion"
        assert review.status == "In review"
        # A bare date is 09:00 in the team's timezone (Europe/Paris).
        assert review.meeting_at == datetime(2026, 3, 6, 8, 0, tzinfo=UTC)
        source = fake_notion.data_source_of(settings.notion_postmortem_database_id or "")
        assert service.sync_cursor(source, session=session) is not None
    again = sync_from_notion(**sync)  # type: ignore[arg-type]
    assert again.completed == [] and again.meetings == [] and again.status_changes == []


def test_sync_never_undoes_a_completion_made_in_slack(
    session_factory: sessionmaker[Session],
    fake_notion: FakeNotion,
    notion: NotionAdapter,
    chat: RecordingChat,
    settings: Settings,
) -> None:
    incident_id = make_incident(session_factory)
    export_postmortem(
        incident_id, session_factory=session_factory, notion=notion, chat=chat, settings=settings
    )
    with session_scope(session_factory) as session:
        service.mark_complete(incident_id, session=session, source="slack")
    fake_notion.edit_page(
        _page_of(session_factory, incident_id), {"Status": {"select": {"name": "Draft"}}}
    )

    sync_from_notion(session_factory=session_factory, notion=notion, settings=settings)

    with session_scope(session_factory) as session:
        row = service.get(incident_id, session=session)
        assert row is not None and (row.status, row.completed_via) == ("Complete", "slack")


def test_digest_lists_statuses_overdue_and_upcoming_meetings(
    session_factory: sessionmaker[Session], settings: Settings
) -> None:
    now = T0 + timedelta(days=30)
    overdue = make_incident(session_factory, number=1)
    complete = make_incident(session_factory, number=2)
    soon = make_incident(session_factory, number=3)
    with session_scope(session_factory) as session:
        service.get_or_create(overdue, session=session)
        service.mark_complete(complete, session=session)
        service.record_meeting(soon, now + timedelta(days=2), session=session)
        digest = build_digest(session=session, settings=settings, now=now)

    assert digest.text.startswith("Weekly postmortem digest. Draft: 2, In review: 0, Complete: 1.")
    sections = {b["text"]["text"].split("\n")[0]: b["text"]["text"] for b in digest.blocks[2:]}
    overdue_text = next(text for title, text in sections.items() if title.startswith("*Overdue"))
    assert "#1 Checkout" in overdue_text and "#2 " not in overdue_text
    meetings = sections["*Meetings in the next 7 days*"]
    assert "#3 Checkout" in meetings and "Fri 03 Apr" in meetings
    assert digest.text.endswith(
        "Follow-ups: opened 0 (+0 vs last week), done 0 (+0 vs last week), "
        "overdue 0 (+0 vs last week)."
    )


def test_digest_counts_the_follow_up_backlog(
    session_factory: sessionmaker[Session], settings: Settings
) -> None:
    from bot.followups.models import FollowUp

    now = T0 + timedelta(days=30)
    incident_id = make_incident(session_factory, number=1)
    day = timedelta(days=1)
    with session_scope(session_factory) as session:
        for n, (created, due, closed) in enumerate(
            [
                (now - 2 * day, None, None),  # opened this week
                (now - 3 * day, (now - day).date(), None),  # opened this week, overdue
                (now - 10 * day, (now - 9 * day).date(), now - day),  # last week; done this week
                (now - 12 * day, (now - 11 * day).date(), None),  # last week; overdue since
            ]
        ):
            session.add(
                FollowUp(
                    incident_id=incident_id,
                    text=f"Item {n}",
                    owner_id="UALICE",
                    created_by="UALICE",
                    due_on=due,
                    status="done" if closed else "open",
                    created_at=created,
                    closed_at=closed,
                    request_key=f"digest:{n}",
                )
            )
        session.flush()
        digest = build_digest(session=session, settings=settings, now=now)
    # This week: opened 2, done 1, overdue 2. Last week: opened 2, done 0, overdue 2
    # (item 2 was due 9 days ago and item 3 11 days ago; both open a week ago).
    assert digest.blocks[-1]["text"]["text"] == (
        "*Follow-ups* — opened 2 (+0 vs last week), done 1 (+1 vs last week), "
        "overdue 2 (+0 vs last week)"
    )
