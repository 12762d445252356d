"""Postmortems through the real Bolt app, the fake Slack and the fake Notion (SQLite and PG)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from bot.db import session_scope
from bot.fakes.notion import FakeNotion
from bot.fakes.slack import FakeSlack
from bot.incidents.models import Incident
from bot.postmortems import service
from bot.postmortems.events import PostmortemCompleted, PostmortemMeetingChanged
from bot.postmortems.setup import SCHEMA
from bot.slack.ids import FollowUpAction
from bot.slack.listeners.commands.postmortems import export_on_request
from tests.harness import Harness, start_harness, wait_until

Start = Callable[..., Harness]


@pytest.fixture
def start(fake_slack: FakeSlack, clean_engine: Engine) -> Iterator[Start]:
    started: list[Harness] = []

    def run(**overrides: Any) -> Harness:
        h = start_harness(fake_slack, clean_engine, **overrides)
        started.append(h)
        return h

    yield run
    for h in started:
        h.bot.close()


def _notion_settings(fake: FakeNotion, **more: Any) -> dict[str, Any]:
    return {
        "notion_token": fake.token,
        "notion_api_url": fake.base_url,
        "notion_postmortem_database_id": fake.add_database(SCHEMA),
        **more,
    }


def _resolve(h: Harness, channel: str) -> None:
    assert h.command("resolve The pool is resized", channel=channel).status == 200


def _texts(h: Harness, channel: str) -> list[str]:
    return [m.get("text", "") for m in h.slack.messages(channel)]


def test_resolve_files_one_page_links_it_and_pushes_slack_changes(
    start: Start, fake_notion: FakeNotion
) -> None:
    settings = _notion_settings(fake_notion)
    h = start(**settings)
    fake_notion.add_user("Alice", "alice@example.com")
    inc = h.declare("declare sev2 Checkout is down")
    source = fake_notion.data_source_of(settings["notion_postmortem_database_id"])

    _resolve(h, inc["channel"])

    [page] = wait_until(lambda: fake_notion.pages_in(source), message="page created")
    url = f"https://www.notion.so/{page['id'].replace('-', '')}"
    wait_until(lambda: any(url in t for t in _texts(h, inc["channel"])), message="link posted")
    with session_scope(h.deps.session_factory) as session:
        incident = session.get(Incident, inc["id"])
        assert incident is not None
        thread = incident.announcement_ts
    wait_until(  # the thread reply is posted just after the channel one
        lambda: any(
            url in m["text"]
            for m in h.slack.messages(h.incidents_channel)
            if m.get("thread_ts") == thread
        ),
        message="link posted in the announcement thread",
    )
    [filed] = [m for m in h.slack.messages(inc["channel"]) if url in m.get("text", "")]
    buttons = [e for b in filed["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [(e["action_id"], e["value"]) for e in buttons] == [(FollowUpAction.ADD, str(inc["id"]))]
    assert page["properties"]["Incident"] == inc["number"]
    assert page["properties"]["Status"]["name"] == "Draft"
    assert page["properties"]["Owner"][0]["name"] == "Alice"

    with session_scope(h.deps.session_factory) as session:
        service.mark_complete(inc["id"], session=session, source="slack")
        service.record_meeting(inc["id"], incident.declared_at, session=session, source="slack")
    h.deps.bus.publish(PostmortemMeetingChanged(inc["id"]))
    h.deps.bus.publish(PostmortemCompleted(inc["id"]))
    assert page["properties"]["Status"]["name"] == "Complete"
    assert page["properties"]["Meeting"]["start"].startswith(
        incident.declared_at.date().isoformat()
    )

    export_on_request(h.deps, incident_id=inc["id"], user_id=h.alice, channel_id=inc["channel"])
    assert len(fake_notion.pages_in(source)) == 1
    [ephemeral] = h.slack.ephemeral_messages(inc["channel"])[-1:]
    assert url in ephemeral["text"]
    assert sum(url in t for t in _texts(h, inc["channel"])) == 1  # the link is posted once


def test_create_on_command_waits_for_the_export_followup(
    start: Start, fake_notion: FakeNotion
) -> None:
    settings = _notion_settings(fake_notion, postmortem_create_on="command")
    h = start(**settings)
    inc = h.declare("declare sev3 Search is slow")
    source = fake_notion.data_source_of(settings["notion_postmortem_database_id"])
    _resolve(h, inc["channel"])

    def tracked() -> bool:
        with session_scope(h.deps.session_factory) as session:
            return service.get(inc["id"], session=session) is not None

    wait_until(tracked, message="postmortem tracked on resolve")
    assert fake_notion.pages_in(source) == []

    export_on_request(h.deps, incident_id=inc["id"], user_id=h.alice, channel_id=inc["channel"])

    [page] = fake_notion.pages_in(source)
    assert page["properties"]["Severity"]["name"] == "SEV-3"


def test_without_a_notion_token_the_postmortem_is_tracked_and_the_bot_says_so(
    start: Start,
) -> None:
    h = start()
    inc = h.declare("declare sev2 Checkout is down")

    _resolve(h, inc["channel"])

    wait_until(
        lambda: any("Notion is not configured" in t for t in _texts(h, inc["channel"])),
        message="not-configured notice",
    )
    with session_scope(h.deps.session_factory) as session:
        row = service.get(inc["id"], session=session)
        assert row is not None and row.status == "Draft" and not row.export_pending
    names = [job.name for job in h.bot.jobs]
    assert "postmortem_export_queue" in names and "notion_sync" not in names


def test_weekly_digest_is_posted_to_the_configured_channel(
    start: Start, fake_notion: FakeNotion
) -> None:
    h = start(**_notion_settings(fake_notion, postmortem_digest_channel="incidents"))
    inc = h.declare("declare sev2 Checkout is down")
    with session_scope(h.deps.session_factory) as session:
        service.get_or_create(inc["id"], session=session)
    [job] = [job for job in h.bot.jobs if job.name == "postmortem_digest"]
    assert "day_of_week='mon'" in str(job.trigger) and "hour='9'" in str(job.trigger)

    job.func(h.deps)

    digest = h.slack.messages(h.incidents_channel)[-1]
    assert digest["text"].startswith("Weekly postmortem digest. Draft: 1, In review: 0")
    assert "Checkout is down" in str(digest["blocks"])
    posted = len(h.slack.messages(h.incidents_channel))
    job.func(h.deps)  # a second replica firing the same week posts nothing
    assert len(h.slack.messages(h.incidents_channel)) == posted


def test_queued_exports_survive_an_outage_and_a_lost_event(
    start: Start, fake_notion: FakeNotion
) -> None:
    settings = _notion_settings(fake_notion)
    h = start(**settings)
    source = fake_notion.data_source_of(settings["notion_postmortem_database_id"])
    [job] = [job for job in h.bot.jobs if job.name == "postmortem_export_queue"]
    down = h.declare("declare sev2 Checkout is down")
    # Page creation is never retried blindly, so the outage shows at once (reads are retried).
    fake_notion.fail("/v1/pages", status=503, times=1_000)

    _resolve(h, down["channel"])

    wait_until(
        lambda: any("queued" in t for t in _texts(h, down["channel"])), message="outage notice"
    )
    assert fake_notion.pages_in(source) == []
    # A second incident whose resolve event was lost (a crash right after the commit).
    lost = h.declare("declare sev3 Search is slow")
    with session_scope(h.deps.session_factory) as session:
        incident = session.get(Incident, lost["id"])
        assert incident is not None
        incident.status, incident.resolved_at = "resolved", incident.declared_at
        row = service.get(down["id"], session=session)
        assert row is not None and row.export_pending
        row.next_export_at = incident.declared_at  # the back-off has expired
    fake_notion._injections.clear()  # Notion is back

    job.func(h.deps)

    pages = {page["properties"]["Incident"] for page in fake_notion.pages_in(source)}
    assert pages == {down["number"], lost["number"]}
    assert any("Notion is reachable again" in t for t in _texts(h, down["channel"]))
    with session_scope(h.deps.session_factory) as session:
        for incident_id in (down["id"], lost["id"]):
            row = service.get(incident_id, session=session)
            assert row is not None and not row.export_pending and row.notion_page_id
