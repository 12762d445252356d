"""Private and security incidents: a private channel, a redacted notice, and no leak anywhere."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from bot.db import session_scope, utcnow
from bot.fakes.notion import FakeNotion
from bot.fakes.slack import FakeSlack
from bot.fakes.slack_requests import static_select_value, users_select_value
from bot.followups.notify import run_followup_nudges
from bot.incidents.models import Incident
from bot.nudges.jobs import run_nudges
from bot.postmortems import jobs as postmortem_jobs
from bot.postmortems.setup import SCHEMA
from bot.reviews import jobs as review_jobs
from bot.slack.ids import IncidentBlock, IncidentCallback, IncidentInput
from tests.harness import Harness, start_harness, wait_until


@pytest.fixture
def notion() -> Iterator[FakeNotion]:
    fake = FakeNotion()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def h(fake_slack: FakeSlack, clean_engine: Engine, notion: FakeNotion) -> Iterator[Harness]:
    for name in ("private-incidents", "digest", "review", "managers"):
        fake_slack.add_channel(name)
    running = start_harness(
        fake_slack,
        clean_engine,
        private_incidents_channel="private-incidents",
        postmortem_digest_channel="digest",
        incident_review_channel="review",
        managers_channel="managers",
        notion_token=notion.token,
        notion_api_url=notion.base_url,
        notion_postmortem_database_id=notion.add_database(SCHEMA),
        notion_private_postmortem_database_id=notion.add_database(SCHEMA, title="Private"),
    )
    yield running
    running.bot.close()


def _incident(h: Harness, incident_id: int) -> Incident:
    with session_scope(h.deps.session_factory) as session:
        row = session.get(Incident, incident_id)
        assert row is not None
        session.expunge(row)
        return row


def _seen_by(h: Harness, user: str) -> str:
    """Return everything Slack shows a user outside the channels they are not in."""
    shown: list[Any] = []
    for channel in h.slack.channels():
        if user in channel["members"]:
            shown.append(channel["name"])
            shown.extend(h.slack.messages(channel["id"]))
        shown.extend(m for m in h.slack.ephemeral_messages(channel["id"]) if m["user"] == user)
    shown.append(h.slack.home_view(user))
    return json.dumps(shown)


def test_a_private_incident_leaks_nowhere(h: Harness, notion: FakeNotion) -> None:
    marker = f"zqx{uuid.uuid4().hex[:12]}"
    inc = h.declare(f"declare private sev2 {marker} payroll export")
    row = _incident(h, inc["id"])
    channel = h.slack.channel(inc["channel"])
    assert channel["is_private"] and marker not in channel["name"]
    assert row.is_private and not row.is_security
    # Nothing in INCIDENTS_CHANNEL; a redacted notice in PRIVATE_INCIDENTS_CHANNEL.
    assert h.slack.messages(h.incidents_channel) == []
    [notice] = h.slack.messages("private-incidents")
    notice_text = json.dumps(notice)
    assert f"INC-{inc['number']}" in notice_text and "SEV-2" in notice_text
    assert f"<@{h.alice}>" in notice_text and marker not in notice_text

    # The whole lifecycle, with the marker in everything people type.
    assert h.command(f"update {marker} still looking", channel=inc["channel"]).status == 200
    today = date.today().isoformat()
    followup = h.command(f"followup Rotate the {marker} keys due {today}", channel=inc["channel"])
    assert followup.status == 200
    everybody = h.command("followups all", user=h.carol, channel=h.general)
    assert "FU-1" in everybody.body and marker not in everybody.body
    h.settle()
    run_nudges(h.deps, now=utcnow() + timedelta(hours=3))
    next_week = (date.today() + timedelta(days=7)).isoformat()
    reply = h.command(f"schedule {next_week} 15:00 UTC", channel=inc["channel"])
    assert reply.status == 200 and "Scheduling" in reply.body
    _look_around(h, [h.carol, h.bob, h.alice], active=True)
    mine = [m for m in h.slack.ephemeral_messages(h.general) if m["user"] == h.alice]
    assert marker in json.dumps(mine[-1])  # a member sees it in the list
    assert marker in json.dumps(h.slack.home_view(h.alice))
    assert h.command(f"resolve {marker} fixed", channel=inc["channel"]).status == 200
    private_source = notion.data_source_of(h.deps.settings.notion_private_postmortem_database_id)
    [page] = wait_until(lambda: notion.pages_in(private_source), message="private postmortem")
    h.settle()
    h.deps.outbox.deliver_due()
    for days in range(1, 12):  # reminders, then escalations to MANAGERS_CHANNEL
        run_nudges(h.deps, now=utcnow() + timedelta(days=days))
        run_followup_nudges(h.deps, now=utcnow() + timedelta(days=days))
    managers = [m["text"] for m in h.slack.messages("managers")]
    assert any("FU-1" in t for t in managers) and any("postmortem" in t for t in managers)
    postmortem_jobs.post_digest(h.deps)
    review = review_jobs.generate(
        session_factory=h.deps.session_factory, settings=h.deps.settings, until=utcnow()
    )
    review_jobs.post_review(review, chat=h.deps.chat, channel="review")
    assert review.current.declared == 1  # counted, never named
    assert h.slack.messages("digest") and h.slack.files  # both were posted

    _look_around(h, [h.carol, h.bob])

    # The channel's members (alice) see it; nobody else does, anywhere.
    assert marker in json.dumps(h.slack.messages(inc["channel"]))
    assert marker not in _seen_by(h, h.carol)
    assert marker not in _seen_by(h, h.bob)
    for public in h.slack.channels():
        if not public["id"].startswith("D") and not public["is_private"]:
            assert marker not in json.dumps(h.slack.messages(public["id"])), public["name"]
    shared = [f for f in h.slack.files.values() if marker.encode() in (f["content"] or b"")]
    assert shared, "the .ics of the meeting is in the private channel"
    for file in shared:  # only in the private channel
        assert (file["is_public"], file["groups"]) == (False, [inc["channel"]])
    public_source = notion.data_source_of(h.deps.settings.notion_postmortem_database_id or "")
    assert notion.pages_in(public_source) == []
    assert marker in json.dumps([page, notion.page_blocks(page["id"])])
    # The private database is read back too: Complete there completes the postmortem.
    notion.edit_page(
        page["id"], {"Status": {"select": {"name": "Complete"}}}, at=utcnow() + timedelta(minutes=3)
    )
    assert postmortem_jobs.run_sync(h.deps).completed == [inc["id"]]


def _look_around(h: Harness, users: list[str], *, active: bool = False) -> None:
    """Have each user run /incident list and open App Home."""
    for user in users:
        response = h.command("list", user=user, channel=h.general)
        assert response.status == 200
        if active:  # answered after the ack, once Slack said who is in the channel
            assert response.body == ""
        h.dispatch(h.signer.event({"type": "app_home_opened", "user": user, "tab": "home"}))
    h.settle()
    for user in users:
        wait_until(lambda user=user: h.slack.home_view(user))


def test_security_incident_from_the_modal_invites_the_security_group(
    h: Harness, fake_slack: FakeSlack
) -> None:
    dave = fake_slack.add_user("dave")
    erin = fake_slack.add_user("erin")
    fake_slack.add_user_group("security", [dave, erin])
    h.deps.settings.security_responders = ["@security"]
    values = {
        IncidentBlock.TITLE: {
            IncidentInput.TITLE: {"type": "plain_text_input", "value": "Leaked key"}
        },
        IncidentBlock.SEVERITY: {IncidentInput.SEVERITY: static_select_value("SEV-1")},
        IncidentBlock.COMMANDER: {IncidentInput.COMMANDER: users_select_value(h.alice)},
        IncidentBlock.INCIDENT_TYPE: {
            IncidentInput.INCIDENT_TYPE: static_select_value("security", "Security")
        },
    }
    response = h.dispatch(
        h.signer.view_submission(
            user_id=h.alice, callback_id=IncidentCallback.DECLARE, values=values
        )
    )
    assert response.status == 200

    def ready() -> Incident | None:
        with session_scope(h.deps.session_factory) as session:
            row = session.query(Incident).one_or_none()
            if row is not None and row.setup_done_at is not None:
                session.expunge(row)
                return row
            return None

    row = wait_until(ready)
    assert row.is_private and row.is_security
    channel = h.slack.channel(row.channel_id or "")
    assert channel["is_private"]
    assert {dave, erin, h.alice} <= set(channel["members"])
    assert h.slack.messages(h.incidents_channel) == []
    assert "security incident" in json.dumps(h.slack.messages("private-incidents"))


def test_private_checkbox(h: Harness) -> None:
    values = {
        IncidentBlock.TITLE: {
            IncidentInput.TITLE: {"type": "plain_text_input", "value": "HR matter"}
        },
        IncidentBlock.SEVERITY: {IncidentInput.SEVERITY: static_select_value("SEV-3")},
        IncidentBlock.PRIVATE: {
            IncidentInput.PRIVATE: {
                "type": "checkboxes",
                "selected_options": [{"value": "private", "text": {"text": "Private"}}],
            }
        },
    }
    h.dispatch(
        h.signer.view_submission(
            user_id=h.alice, callback_id=IncidentCallback.DECLARE, values=values
        )
    )
    wait_until(lambda: _count_ready(h) == 1)
    [row] = _rows(h)
    assert row.is_private and not row.is_security
    assert h.slack.channel(row.channel_id or "")["is_private"]
    body = json.loads(h.command("declare private").body)
    assert "Give the incident a title" in body["text"]


def _rows(h: Harness) -> list[Incident]:
    with session_scope(h.deps.session_factory) as session:
        rows = list(session.query(Incident).order_by(Incident.id))
        session.expunge_all()
        return rows


def _count_ready(h: Harness) -> int:
    return len([r for r in _rows(h) if r.setup_done_at is not None])


def test_an_unknown_security_group_does_not_block_setup(h: Harness) -> None:
    h.deps.settings.security_responders = ["@nobody"]
    inc = h.declare("declare security sev1 Token in a public repo")
    assert _rows(h)[0].is_security
    notes = [m["text"] for m in h.slack.messages(inc["channel"]) if "@nobody" in m["text"]]
    assert notes and "no_such_subteam" in notes[0]
    assert h.slack.messages(h.incidents_channel) == []


def test_without_a_notice_channel_a_private_incident_is_announced_nowhere(
    fake_slack: FakeSlack, clean_engine: Engine
) -> None:
    h = start_harness(fake_slack, clean_engine)
    try:
        inc = h.declare("declare private sev2 Payroll export is wrong")
        row = _incident(h, inc["id"])
        assert row.setup_done_at is not None and row.announcement_ts is None
        assert h.slack.messages(h.incidents_channel) == []
        assert h.slack.channel(inc["channel"])["name"] == f"inc-{inc['number']}-private"
        members = h.slack.channel(inc["channel"])["members"]
        assert h.alice in members and h.carol not in members
        # A non-member gets no hint of it: the list (answered after the ack) is empty.
        assert h.command("list", user=h.carol, channel=h.general).body == ""
        h.settle()
        [listed] = [m for m in h.slack.ephemeral_messages(h.general) if m["user"] == h.carol]
        assert listed["text"] == "0 active incidents"
    finally:
        h.bot.close()
