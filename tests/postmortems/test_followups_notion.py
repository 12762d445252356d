"""Follow-ups in Notion: a page each, linked from the postmortem, and their edits read back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from bot.db import session_scope, utcnow
from bot.fakes.notion import FakeNotion
from bot.fakes.slack import FakeSlack
from bot.followups.feature import run_notion_sync
from bot.followups.models import FollowUp
from bot.followups.notion import followups_schema
from bot.incidents.models import TimelineEntry
from bot.postmortems.models import Postmortem
from bot.postmortems.setup import SCHEMA
from tests.harness import Harness, start_harness, wait_until


@pytest.fixture
def h(fake_slack: FakeSlack, clean_engine: Engine, fake_notion: FakeNotion) -> Iterator[Harness]:
    postmortems = fake_notion.add_database(SCHEMA)
    followups = fake_notion.add_database(
        followups_schema(fake_notion.data_source_of(postmortems)), title="Follow-ups"
    )
    running = start_harness(
        fake_slack,
        clean_engine,
        notion_token=fake_notion.token,
        notion_api_url=fake_notion.base_url,
        notion_postmortem_database_id=postmortems,
        notion_followups_database_id=followups,
    )
    yield running
    running.bot.close()


def _row(h: Harness) -> FollowUp:
    with session_scope(h.deps.session_factory) as session:
        row = session.scalars(select(FollowUp)).one()
        session.expunge(row)
        return row


def _exported(h: Harness) -> bool:
    with session_scope(h.deps.session_factory) as session:
        return session.scalar(select(Postmortem.exported_at)) is not None


def _text(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks)


def test_follow_ups_become_pages_listed_in_the_postmortem_and_sync_back(
    h: Harness, fake_notion: FakeNotion
) -> None:
    settings = h.deps.settings
    bob_notion = fake_notion.add_user("Bob", "bob@example.com")
    carol_notion = fake_notion.add_user("Carol", "carol@example.com")
    postmortem_source = fake_notion.data_source_of(settings.notion_postmortem_database_id or "")
    source = fake_notion.data_source_of(settings.notion_followups_database_id or "")
    inc = h.declare("declare sev2 Checkout is down")
    due = date.today() + timedelta(days=5)
    h.command(
        f"followup Add a queue alert <@{h.bob}> due {due.isoformat()}", channel=inc["channel"]
    )
    assert run_notion_sync(h.deps).pushed == []  # no postmortem page to relate to yet
    h.command("resolve Rolled back", channel=inc["channel"])
    [postmortem] = wait_until(lambda: fake_notion.pages_in(postmortem_source))
    wait_until(lambda: _exported(h), message="postmortem exported")

    summary = run_notion_sync(h.deps)

    assert summary.pushed == [1] and summary.created_for == {inc["id"]}
    [page] = fake_notion.pages_in(source)
    props = page["properties"]
    assert props["Name"][0]["text"]["content"] == "FU-1 Add a queue alert"
    assert props["Status"]["name"] == "Open"
    assert props["Due"]["start"] == due.isoformat()
    assert [p["id"] for p in props["Owner"]] == [bob_notion]
    assert props["Incident"] == [{"id": postmortem["id"]}]
    row = _row(h)
    assert row.notion_page_id == page["id"] and not row.notion_pending
    # The postmortem's action items list the follow-up, linked to its page.
    items = [b for b in fake_notion.page_blocks(postmortem["id"]) if b["type"] == "to_do"]
    assert any(
        "FU-1" in _text([b]) and row.notion_url and row.notion_url in _text([b]) for b in items
    ), items
    assert run_notion_sync(h.deps).pushed == []  # nothing changed: nothing pushed

    # Edited in Notion: Status, Due and Owner come back.
    later = utcnow() + timedelta(minutes=3)
    new_due = due + timedelta(days=7)
    fake_notion.edit_page(
        page["id"],
        {
            "Status": {"select": {"name": "Done"}},
            "Due": {"date": {"start": new_due.isoformat()}},
            "Owner": {"people": [{"id": carol_notion}]},
        },
        at=later,
    )
    summary = run_notion_sync(h.deps)
    assert summary.read_back == [1]
    row = _row(h)
    assert (row.status, row.due_on, row.owner_id) == ("done", new_due, h.carol)
    with session_scope(h.deps.session_factory) as session:
        kinds = session.scalars(
            select(TimelineEntry.text).where(TimelineEntry.kind == "followup_notion")
        ).all()
    assert kinds == [
        f"Follow-up FU-1 changed in Notion: status Done, due {new_due.isoformat()}, "
        f"owner <@{h.carol}>"
    ]

    # Changed in Slack: pushed back to the page.
    h.command("followup wontdo 1", channel=inc["channel"])
    assert _row(h).notion_pending
    assert run_notion_sync(h.deps).pushed == [1]
    [page] = fake_notion.pages_in(source)
    assert page["properties"]["Status"]["name"] == "Won't do"
    assert not _row(h).notion_pending


def test_a_page_created_by_a_killed_run_is_adopted_not_created_twice(
    h: Harness, fake_notion: FakeNotion
) -> None:
    """Notion created the page, then the process died before recording its id."""
    from bot.followups.notion import page_properties
    from bot.integrations.ports import NotionPort

    settings = h.deps.settings
    source = fake_notion.data_source_of(settings.notion_followups_database_id or "")
    inc = h.declare("declare sev2 Checkout is down")
    h.command("followup Add a queue alert", channel=inc["channel"])
    h.command("followup Add a disk alert", channel=inc["channel"])
    h.command("resolve Rolled back", channel=inc["channel"])
    wait_until(lambda: _exported(h), message="postmortem exported")
    with session_scope(h.deps.session_factory) as session:
        postmortem_page = session.scalars(select(Postmortem.notion_page_id)).one()
        first = session.scalars(select(FollowUp).order_by(FollowUp.id)).first()
        assert first is not None and postmortem_page
        session.expunge(first)
    notion: NotionPort | None = h.deps.notion
    assert notion is not None
    orphan = notion.create_page(source, page_properties(first, postmortem_page, []), [])

    summary = run_notion_sync(h.deps)

    assert sorted(summary.pushed) == [1, 2]
    pages = fake_notion.pages_in(source)
    titles = sorted(p["properties"]["Name"][0]["text"]["content"] for p in pages)
    assert titles == ["FU-1 Add a queue alert", "FU-2 Add a disk alert"]
    with session_scope(h.deps.session_factory) as session:
        adopted = session.get(FollowUp, first.id)
        assert adopted is not None and adopted.notion_page_id == orphan.id
