"""The follow-up loop: the owner's DM, [Add follow-up] and its modal, due-date nudges."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select

from bot.db import session_scope
from bot.fakes.slack import FakeSlack
from bot.fakes.slack_requests import button_action, users_select_value
from bot.followups import notify
from bot.followups.models import FollowUp
from bot.outbox.models import OutboxMessage
from bot.slack.ids import FollowUpAction, FollowUpBlock, FollowUpCallback, FollowUpInput
from tests.harness import Harness, start_harness, wait_until
from tests.nudges.conftest import dm_channel


@pytest.fixture
def h(fake_slack: FakeSlack, clean_engine: Engine) -> Iterator[Harness]:
    """A bot with a managers channel and the default follow-up nudge policy."""
    fake_slack.add_channel("managers")
    running = start_harness(fake_slack, clean_engine, managers_channel="managers")
    yield running
    running.bot.close()


def _reply(response: Any) -> dict[str, Any]:
    assert response.status == 200, response.body
    return json.loads(response.body)


def _row(h: Harness, followup_id: int) -> FollowUp:
    with session_scope(h.deps.session_factory) as session:
        row = session.get(FollowUp, followup_id)
        assert row is not None
        session.expunge(row)
        return row


def _dms(h: Harness, user: str) -> list[dict[str, Any]]:
    channel = dm_channel(h, user)
    return h.slack.messages(channel) if channel else []


def _buttons(message: dict[str, Any]) -> list[str]:
    return [
        e["action_id"]
        for b in message.get("blocks", [])
        if b["type"] == "actions"
        for e in b["elements"]
    ]


def test_someone_else_assigning_a_follow_up_dms_the_owner(h: Harness) -> None:
    inc = h.declare("declare sev2 Checkout is down")
    _reply(h.command(f"followup Add a queue alert <@{h.bob}>", channel=inc["channel"]))
    dm = wait_until(lambda: _dms(h, h.bob))
    assert len(dm) == 1
    assert "<@" + h.alice + "> gave you follow-up FU-1" in dm[0]["text"]
    assert _buttons(dm[0]) == [FollowUpAction.DONE, FollowUpAction.WONT_DO]
    _reply(h.command("followup My own item", channel=inc["channel"]))
    h.settle()
    assert dm_channel(h, h.alice) is None  # nobody is told about their own follow-up

    h.dispatch(
        h.signer.block_actions(
            user_id=h.bob,
            channel_id=dm_channel(h, h.bob),
            actions=[button_action(FollowUpAction.DONE, "1")],
        )
    )
    wait_until(lambda: _row(h, 1).status == "done")
    assert _row(h, 1).closed_by == h.bob
    assert len(_dms(h, h.bob)) == 1


def test_add_follow_up_from_the_resolve_summary(h: Harness) -> None:
    inc = h.declare("declare sev2 Checkout is down")
    assert h.command("resolve Rolled back", channel=inc["channel"]).status == 200

    def summary() -> dict[str, Any] | None:
        found = [m for m in h.slack.messages(inc["channel"]) if "resolved" in m.get("text", "")]
        return next((m for m in found if FollowUpAction.ADD in _buttons(m)), None)

    message = wait_until(summary)
    h.dispatch(
        h.signer.block_actions(
            user_id=h.alice,
            channel_id=inc["channel"],
            message=message,
            actions=[button_action(FollowUpAction.ADD, str(inc["id"]))],
        )
    )
    view = wait_until(
        lambda: next(
            (v for v in h.slack.views.values() if v.get("callback_id") == FollowUpCallback.ADD),
            None,
        )
    )
    assert json.loads(view["private_metadata"])["incident_id"] == inc["id"]
    due = (date.today() + timedelta(days=3)).isoformat()
    values = {
        FollowUpBlock.TEXT: {FollowUpInput.TEXT: {"type": "plain_text_input", "value": " "}},
        FollowUpBlock.OWNER: {FollowUpInput.OWNER: users_select_value(h.bob)},
        FollowUpBlock.DUE: {FollowUpInput.DUE: {"type": "datepicker", "selected_date": due}},
    }
    submit = dict(
        user_id=h.alice,
        callback_id=FollowUpCallback.ADD,
        view_id=view["id"],
        private_metadata=view["private_metadata"],
    )
    refused = _reply(h.dispatch(h.signer.view_submission(values=values, **submit)))
    assert refused["response_action"] == "errors" and FollowUpBlock.TEXT in refused["errors"]
    values[FollowUpBlock.TEXT][FollowUpInput.TEXT]["value"] = "Add a canary stage"
    for _ in range(2):  # Slack may deliver a submission twice
        assert h.dispatch(h.signer.view_submission(values=values, **submit)).status == 200
    wait_until(lambda: _dms(h, h.bob))
    h.settle()
    with session_scope(h.deps.session_factory) as session:
        rows = list(session.scalars(select(FollowUp)))
        assert [(r.text, r.owner_id, r.due_on.isoformat() if r.due_on else None) for r in rows] == [
            ("Add a canary stage", h.bob, due)
        ]
    assert len(_dms(h, h.bob)) == 1
    assert any("Added FU-1" in m["text"] for m in h.slack.ephemeral_messages(inc["channel"]))


def _nudge_rows(h: Harness) -> list[tuple[str, str, bool, str | None]]:
    with session_scope(h.deps.session_factory) as session:
        rows = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.kind.in_([notify.NUDGE, notify.ESCALATION]))
            .order_by(OutboxMessage.due_at, OutboxMessage.key)
        )
        return [(r.kind, r.key, r.sent_at is not None, r.last_error) for r in rows]


def test_due_date_nudges_repeat_then_escalate_once(h: Harness) -> None:
    inc = h.declare("declare sev2 Checkout is down")
    due = date.today() + timedelta(days=1)
    _reply(h.command(f"followup Rotate the keys due {due.isoformat()}", channel=inc["channel"]))
    first = datetime(due.year, due.month, due.day, 9, tzinfo=UTC)  # DEFAULT_TIMEZONE is UTC
    assert notify.run_followup_nudges(h.deps, now=first - timedelta(minutes=1)) == 0
    assert notify.run_followup_nudges(h.deps, now=first) == 1
    assert notify.run_followup_nudges(h.deps, now=first + timedelta(hours=5)) == 0  # once
    dms = _dms(h, h.alice)
    assert "FU-1" in dms[-1]["text"] and "is due today" in dms[-1]["text"]
    assert _buttons(dms[-1]) == [
        FollowUpAction.DONE,
        FollowUpAction.SNOOZE,
        FollowUpAction.WONT_DO,
    ]
    for step in (1, 2):  # every FOLLOWUP_NUDGE_AFTER (2d) while overdue
        assert notify.run_followup_nudges(h.deps, now=first + timedelta(days=2 * step)) == 1
    assert "was due" in _dms(h, h.alice)[-1]["text"]
    assert h.slack.messages("managers") == []
    # The fourth due time: three reminders went unanswered, so the managers hear of it.
    assert notify.run_followup_nudges(h.deps, now=first + timedelta(days=6)) == 2
    assert notify.run_followup_nudges(h.deps, now=first + timedelta(days=8)) == 1
    managers = h.slack.messages("managers")
    assert len(managers) == 1 and "FU-1" in managers[0]["text"]
    assert "still open after 3 reminders" in managers[0]["text"]
    assert len(_dms(h, h.alice)) == 5


def test_snooze_and_done_close_pending_nudges(h: Harness) -> None:
    inc = h.declare("declare sev2 Checkout is down")
    due = date.today() + timedelta(days=1)
    _reply(h.command(f"followup Rotate the keys due {due.isoformat()}", channel=inc["channel"]))
    first = datetime(due.year, due.month, due.day, 9, tzinfo=UTC)
    notify.run_followup_nudges(h.deps, now=first)
    dm = dm_channel(h, h.alice)
    with session_scope(h.deps.session_factory) as session:  # a pass that has not sent yet
        notify.record_due(session, h.deps.settings, first + timedelta(days=2))
    h.dispatch(
        h.signer.block_actions(
            user_id=h.alice, channel_id=dm, actions=[button_action(FollowUpAction.SNOOZE, "1")]
        )
    )
    wait_until(lambda: _row(h, 1).snoozed_until is not None)
    snoozed = _row(h, 1).snoozed_until
    assert snoozed is not None
    # The nudge recorded before the snooze is closed unsent.
    assert h.deps.outbox.deliver_due(kinds=notify.KINDS, now=utc_now()).sent == 0
    assert _nudge_rows(h)[-1][3] == "superseded: the follow-up was snoozed"
    assert notify.run_followup_nudges(h.deps, now=snoozed - timedelta(minutes=1)) == 0
    assert notify.run_followup_nudges(h.deps, now=snoozed) == 1
    # Done between recording and sending: the nudge is closed, not sent.
    with session_scope(h.deps.session_factory) as session:
        notify.record_due(session, h.deps.settings, snoozed + timedelta(days=2))
    _reply(h.command("followup done 1", channel=inc["channel"]))
    sent_before = len(_dms(h, h.alice))
    assert h.deps.outbox.deliver_due(kinds=notify.KINDS, now=utc_now()).sent == 0
    assert _nudge_rows(h)[-1][3] == "superseded: the follow-up is done"
    assert len(_dms(h, h.alice)) == sent_before
    assert notify.run_followup_nudges(h.deps, now=snoozed + timedelta(days=4)) == 0


def utc_now() -> datetime:
    """Return now (the outbox's due rows are compared with it)."""
    return datetime.now(UTC)
