"""Follow-ups through the real Bolt app and the fake Slack, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date, timedelta

from sqlalchemy import select

from bot.db import session_scope
from bot.fakes.slack_requests import button_action
from bot.followups.flows import parse_close, parse_new
from bot.followups.models import FollowUp
from bot.incidents.domain import InvalidInput
from bot.incidents.models import TimelineEntry
from bot.slack.ids import FollowUpAction
from tests.harness import Harness, wait_until

TODAY = date(2026, 11, 29)


def _reply(response) -> dict:
    assert response.status == 200, response.body
    return json.loads(response.body)


def _rows(h: Harness) -> list[FollowUp]:
    with session_scope(h.deps.session_factory) as session:
        return list(session.scalars(select(FollowUp).order_by(FollowUp.id)))


def _timeline(h: Harness, incident_id: int) -> list[tuple[str, str]]:
    with session_scope(h.deps.session_factory) as session:
        entries = session.scalars(
            select(TimelineEntry)
            .where(TimelineEntry.incident_id == incident_id, TimelineEntry.kind.like("followup%"))
            .order_by(TimelineEntry.id)
        )
        return [(e.kind, e.text) for e in entries]


def test_parse_owner_and_due_in_either_order() -> None:
    new = parse_new("Add an alert on queue depth <@UBOB> due 2026-12-01", today=TODAY)
    assert (new.text, new.owner_id, new.due_on) == (
        "Add an alert on queue depth",
        "UBOB",
        date(2026, 12, 1),
    )
    new = parse_new("Rotate keys due 2026-12-01 <@UBOB|bob>", today=TODAY)
    assert (new.text, new.owner_id, new.due_on) == ("Rotate keys", "UBOB", date(2026, 12, 1))
    assert parse_new("Write the runbook", today=TODAY).owner_id is None
    assert parse_new("Fix what is due today", today=TODAY).text == "Fix what is due today"
    assert parse_close("done FU-12") == ("done", 12)
    assert parse_close("won't do 3") == ("wont_do", 3)
    assert parse_close("done right this time") is None
    try:
        parse_close("done")
    except InvalidInput as exc:
        assert "Say which follow-up" in str(exc)
    else:
        raise AssertionError("accepted a bare done")
    for bad, message in [
        ("Fix it due 2026-13-01", "not a date"),
        ("Fix it due 2026-11-28", "in the past"),
        ("<@UBOB>", "Say what needs doing"),
        ("x" * 1001, "at most 1000"),
    ]:
        try:
            parse_new(bad, today=TODAY)
        except InvalidInput as exc:
            assert message in str(exc)
        else:
            raise AssertionError(f"accepted {bad!r}")


def test_add_list_and_close_follow_ups(harness: Harness) -> None:
    h = harness
    inc = h.declare("declare sev2 Checkout is down")
    due = (date.today() + timedelta(days=7)).isoformat()
    body = _reply(
        h.command(
            f"followup Add an alert on <!channel> depth <@{h.bob}> due {due}",
            channel=inc["channel"],
        )
    )
    assert body["text"] == "Added FU-1."
    assert "<!channel>" not in json.dumps(body["blocks"])
    _reply(h.command("followup Write the runbook", channel=inc["channel"]))
    [first, second] = _rows(h)
    assert (first.owner_id, first.due_on.isoformat(), first.created_by) == (h.bob, due, h.alice)
    assert (second.owner_id, second.due_on, second.status) == (h.alice, None, "open")

    listed = _reply(h.command("followups", channel=inc["channel"]))
    assert listed["text"] == f"Open follow-ups of INC-{inc['number']}: 2"
    buttons = [b for b in listed["blocks"] if b["type"] == "actions"]
    assert [[e["action_id"] for e in b["elements"]] for b in buttons] == [
        [FollowUpAction.DONE, FollowUpAction.WONT_DO]
    ] * 2
    assert _reply(h.command("followups", channel=h.general))["text"] == "Your open follow-ups: 1"
    assert _reply(h.command("followups mine", channel=h.general, user=h.bob))["text"] == (
        "Your open follow-ups: 1"
    )
    assert _reply(h.command("followups all", channel=h.general))["text"].endswith(": 2")

    done = _reply(h.command(f"followup done {first.id}", channel=h.general, user=h.bob))
    assert done["text"].startswith("FU-1 is marked done")
    h.dispatch(
        h.signer.block_actions(
            user_id=h.alice,
            channel_id=inc["channel"],
            actions=[button_action(FollowUpAction.WONT_DO, str(second.id))],
        )
    )
    wait_until(lambda: [r.status for r in _rows(h)] == ["done", "wont_do"])
    wait_until(lambda: h.slack.ephemeral_messages(inc["channel"]))
    assert "FU-2 is marked won't do" in h.slack.ephemeral_messages(inc["channel"])[-1]["text"]
    assert [kind for kind, _ in _timeline(h, inc["id"])] == [
        "followup",
        "followup",
        "followup_done",
        "followup_wont_do",
    ]
    assert _reply(h.command("followups all"))["text"].endswith(": 0")


def test_app_home_shows_my_open_follow_ups(harness: Harness) -> None:
    h = harness
    inc = h.declare("declare sev2 Checkout is down")
    _reply(h.command(f"followup Add a <!here> canary <@{h.bob}>", channel=inc["channel"]))
    _reply(h.command("followup Alice's own item", channel=inc["channel"]))
    h.dispatch(h.signer.event({"type": "app_home_opened", "user": h.bob, "tab": "home"}))
    view = wait_until(lambda: h.slack.home_view(h.bob))
    text = json.dumps(view["blocks"])
    assert "My open follow-ups" in text and "Add a" in text and "canary" in text
    assert "Alice's own item" not in text and "<!here>" not in text
    assert "Checkout is down" in text  # the active incidents are still there


def test_mistakes_get_a_message_and_change_nothing(harness: Harness) -> None:
    h = harness
    inc = h.declare("declare sev3 Search is slow")
    assert "incident's channel" in _reply(h.command("followup Fix it", channel=h.general))["text"]
    bad_date = h.command("followup Fix it due 2026-02-30", channel=inc["channel"])
    assert "not a date" in _reply(bad_date)["text"]
    assert "no follow-up FU-99" in _reply(h.command("followup done 99"))["text"]
    assert "followups mine" in _reply(h.command("followups everything"))["text"]
    assert _rows(h) == []


def test_a_redelivered_command_adds_one_follow_up(harness: Harness) -> None:
    h = harness
    inc = h.declare("declare sev3 Search is slow")
    signed = h.signer.slash_command(
        user_id=h.alice, channel_id=inc["channel"], text="followup Tune the cache", trigger_id="T1"
    )
    assert _reply(h.dispatch(signed))["text"] == "Added FU-1."
    again = h.signer.slash_command(
        user_id=h.alice, channel_id=inc["channel"], text="followup Tune the cache", trigger_id="T1"
    )
    assert _reply(h.dispatch(again))["text"] == "Already added FU-1."
    assert len(_rows(h)) == 1 and len(_timeline(h, inc["id"])) == 1
