"""Declaring incidents through the real Bolt app and the fake Slack."""

from __future__ import annotations

import json

from sqlalchemy import Engine

from bot.db import session_scope
from bot.fakes.slack import FakeSlack
from bot.fakes.slack_requests import (
    multi_users_select_value,
    plain_text_value,
    static_select_value,
    users_select_value,
)
from bot.incidents.models import Incident, TimelineEntry
from bot.slack.ids import IncidentAction, IncidentBlock, IncidentCallback, IncidentInput
from tests.harness import Harness, wait_until


def _incident(h: Harness, incident_id: int) -> Incident:
    with session_scope(h.deps.session_factory) as session:
        row = session.get(Incident, incident_id)
        assert row is not None
        return row


def test_declare_by_command_sets_up_channel(harness: Harness) -> None:
    h = harness
    response = h.command("declare sev2 Checkout is down")
    assert response.status == 200
    assert "Declaring INC-1 (SEV-2)" in json.loads(response.body)["text"]
    inc = h.declare("declare sev1 Payments failing <!channel>")
    row = _incident(h, inc["id"])
    assert row.number == 2 and row.severity == "SEV-1" and row.status == "investigating"
    assert row.commander_id == h.alice and row.reporter_id == h.alice
    channel = h.slack.channel(inc["channel"])
    assert channel["name"] == "inc-2-payments-failing-channel"
    assert h.alice in channel["members"]
    assert channel["topic"]["value"].startswith("SEV-1 · investigating · Commander: <@")
    kickoff = h.slack.messages(inc["channel"])[0]
    assert kickoff["ts"] in h.slack.pins(inc["channel"])
    assert kickoff["blocks"][0]["type"] == "header"
    assert [e["action_id"] for e in kickoff["blocks"][-1]["elements"]] == [
        IncidentAction.POST_UPDATE,
        IncidentAction.CHANGE_SEVERITY,
        IncidentAction.RESOLVE,
    ]
    announcement = next(
        m for m in h.slack.messages(h.incidents_channel) if m["ts"] == row.announcement_ts
    )
    assert f"<#{inc['channel']}>" in json.dumps(announcement["blocks"])
    assert "<!channel>" not in json.dumps(announcement) and "<!channel>" not in json.dumps(kickoff)


def test_declare_without_title_opens_prefilled_modal(harness: Harness) -> None:
    h = harness
    assert h.command("declare sev1").status == 200
    wait_until(lambda: h.slack.calls_to("views.open"))
    view = h.slack.calls_to("views.open")[0]["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["callback_id"] == IncidentCallback.DECLARE
    severity = next(b for b in view["blocks"] if b["block_id"] == IncidentBlock.SEVERITY)
    assert severity["element"]["initial_option"]["value"] == "SEV-1"
    assert h.command("").status == 200  # bare /incident opens the modal too
    wait_until(lambda: len(h.slack.calls_to("views.open")) == 2)


def _declare_values(h: Harness, title: str) -> dict:
    return {
        IncidentBlock.TITLE: {IncidentInput.TITLE: plain_text_value(title)},
        IncidentBlock.SEVERITY: {IncidentInput.SEVERITY: static_select_value("SEV-3")},
        IncidentBlock.DESCRIPTION: {IncidentInput.DESCRIPTION: plain_text_value("Orders time out")},
        IncidentBlock.COMMANDER: {IncidentInput.COMMANDER: users_select_value(h.bob)},
        IncidentBlock.INVITEES: {IncidentInput.INVITEES: multi_users_select_value([h.carol])},
    }


def test_modal_submit_declares_once_even_when_redelivered(harness: Harness) -> None:
    h = harness
    signed = h.signer.view_submission(
        user_id=h.alice,
        callback_id=IncidentCallback.DECLARE,
        values=_declare_values(h, "결제 장애"),
        view_id="V123",
    )
    first = h.dispatch(signed)
    assert first.status == 200 and first.body == ""
    again = h.dispatch(signed)
    assert again.status == 200
    row = wait_until(lambda: (r := _incident(h, 1)).setup_done_at and r)
    assert row.commander_id == h.bob and row.description == "Orders time out"
    assert row.channel_name == "inc-1-incident"  # Korean title: still a valid name
    assert {h.alice, h.bob, h.carol} <= set(h.slack.channel(row.channel_id)["members"])
    with session_scope(h.deps.session_factory) as session:
        assert session.query(Incident).count() == 1
    assert len(h.slack.calls_to("conversations.create")) == 1


def test_modal_rejects_empty_and_long_titles(harness: Harness) -> None:
    h = harness
    for title in ("   ", "x" * 151):
        response = h.dispatch(
            h.signer.view_submission(
                user_id=h.alice,
                callback_id=IncidentCallback.DECLARE,
                values=_declare_values(h, title),
            )
        )
        body = json.loads(response.body)
        assert body["response_action"] == "errors" and IncidentBlock.TITLE in body["errors"]
    with session_scope(h.deps.session_factory) as session:
        assert session.query(Incident).count() == 0


def test_bad_command_input_changes_nothing(harness: Harness) -> None:
    h = harness
    cases = {
        "declare sev9 Bad": "is not a severity",
        "frobnicate": "I don't know `/incident frobnicate`",
        "update all good": "only works in an incident channel",
        "declare " + "y" * 200: "the limit is 150",
    }
    for text, expected in cases.items():
        body = json.loads(h.command(text).body)
        assert expected in body["text"], (text, body)
    with session_scope(h.deps.session_factory) as session:
        assert session.query(Incident).count() == 0
    assert not h.slack.calls_to("conversations.create")


def test_name_taken_gets_a_suffix(harness: Harness) -> None:
    h = harness
    h.slack.add_channel("inc-1-db-down", members=[h.bob], bot_member=False)
    inc = h.declare("declare DB down")
    assert h.slack.channel(inc["channel"])["name"] == "inc-1-db-down-2"


def test_crash_after_channel_create_adopts_the_channel(harness: Harness) -> None:
    """A channel the bot created but never recorded (crash) is adopted, not duplicated."""
    from bot.incidents.declare import setup_incident

    h = harness
    h.slack.fail_method("conversations.invite", "fatal_error")
    h.command("declare sev3 Cache stampede")
    wait_until(lambda: _incident(h, 1).setup_error)
    row = _incident(h, 1)
    channel_id = row.channel_id
    assert channel_id is not None
    with session_scope(h.deps.session_factory) as session:  # forget the channel, as a crash would
        stored = session.get(Incident, 1)
        assert stored is not None
        stored.channel_id, stored.lease_until = None, None
    assert setup_incident(1, h.deps.incidents)
    assert _incident(h, 1).channel_id == channel_id
    assert len(h.slack.calls_to("conversations.create")) == 2  # second one hit name_taken


def test_slack_failure_is_retried_and_reporter_told(harness: Harness) -> None:
    from bot.incidents.jobs import resume_incidents

    h = harness
    h.slack.fail_method("conversations.setTopic", "internal_error")
    h.command("declare Queue backlog")
    wait_until(lambda: _incident(h, 1).setup_error)
    dm = wait_until(
        lambda: [
            c for c in h.slack.calls_to("chat.postMessage") if str(c["channel"]).startswith("D")
        ]
    )
    assert "keeps retrying" in dm[0]["text"]
    with session_scope(h.deps.session_factory) as session:  # let the back-off expire
        stored = session.get(Incident, 1)
        assert stored is not None
        stored.lease_until = None
    assert resume_incidents(h.deps) == 1
    row = _incident(h, 1)
    assert row.setup_done_at is not None and row.setup_error is None
    assert len(h.slack.calls_to("conversations.create")) == 1
    assert len(h.slack.calls_to("chat.postMessage")) == 3  # DM, kickoff, announcement: no repeats


def test_rate_limited_slack_call_is_retried(harness: Harness) -> None:
    h = harness
    h.slack.rate_limit_method("conversations.create", retry_after=1)
    inc = h.declare("declare sev4 Slow search")
    assert inc["channel"]
    assert len(h.slack.calls_to("conversations.create")) == 2


def test_timeline_records_declaration(harness: Harness) -> None:
    h = harness
    inc = h.declare()
    with session_scope(h.deps.session_factory) as session:
        kinds = [e.kind for e in session.query(TimelineEntry).filter_by(incident_id=inc["id"])]
    assert kinds == ["declared"]


def test_change_made_while_setup_is_retrying_reaches_every_message(harness: Harness) -> None:
    from bot.incidents.jobs import resume_incidents

    h = harness
    h.slack.fail_method("conversations.setTopic", "internal_error")
    h.command("declare sev3 Search is slow")
    wait_until(lambda: _incident(h, 1).setup_error)
    channel = _incident(h, 1).channel_id
    assert channel is not None
    assert h.command("sev 1", channel=channel).status == 200
    h.settle()  # the change's own follow-up is done (it must not hold the lease below)
    with session_scope(h.deps.session_factory) as session:  # let the back-off expire
        stored = session.get(Incident, 1)
        assert stored is not None
        stored.lease_until = None
    resume_incidents(h.deps)  # finishes setup
    resume_incidents(h.deps)  # and then syncs the change
    row = _incident(h, 1)
    assert row.setup_done_at is not None and row.synced_revision == row.revision
    kickoff = next(m for m in h.slack.messages(channel) if m["ts"] == row.kickoff_ts)
    announcement = next(
        m for m in h.slack.messages(h.incidents_channel) if m["ts"] == row.announcement_ts
    )
    assert "SEV-1" in json.dumps(kickoff["blocks"]) and "SEV-3" not in json.dumps(kickoff["blocks"])
    assert "SEV-1" in json.dumps(announcement["blocks"])


def test_an_unknown_default_responder_does_not_block_setup(
    fake_slack: FakeSlack, clean_engine: Engine
) -> None:
    from tests.harness import start_harness

    h = start_harness(fake_slack, clean_engine, default_responders=["U0GONE"])
    try:
        inc = h.declare("declare sev2 Queue stuck")
        assert h.alice in h.slack.channel(inc["channel"])["members"]
        notes = [m for m in h.slack.messages(inc["channel"]) if "U0GONE" in str(m.get("text"))]
        assert notes and "would not add" in notes[0]["text"]
    finally:
        h.bot.close()
