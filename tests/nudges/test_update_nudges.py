"""Silence nudges in incident channels, driven pass by pass with frozen time."""

from __future__ import annotations

import json
import threading

import pytest
from slack_sdk.errors import SlackApiError

from bot.db import session_scope
from bot.fakes.server import Response
from bot.fakes.slack import FakeSlack
from bot.fakes.slack_requests import button_action
from bot.nudges.jobs import deliver_pending, record_due, run_nudges
from bot.nudges.models import NudgeSchedule
from bot.outbox.models import OutboxMessage
from bot.slack.ids import IncidentAction, NudgeAction
from tests.harness import Harness
from tests.nudges.conftest import (
    Clock,
    deliveries,
    human_message,
    nudge_messages,
    run,
    second_process,
    wait_for,
)


def test_silence_nudge_is_never_early_and_mentions_commander(nh: Harness, clock: Clock) -> None:
    h = nh
    inc = h.declare("declare sev2 Checkout is down")
    start = clock.now
    clock.at(start, minutes=59, seconds=59)
    assert run(h.deps).recorded == 0
    assert nudge_messages(h, inc["channel"]) == []
    clock.at(start, hours=1)
    assert run(h.deps).sent == 1
    [nudge] = nudge_messages(h, inc["channel"])
    assert "No messages for 1h" in nudge["text"] and f"<@{h.alice}>" in nudge["text"]
    actions = nudge["blocks"][-1]["elements"]
    assert actions[0]["action_id"] == IncidentAction.POST_UPDATE
    assert actions[1]["action_id"] == NudgeAction.SNOOZE
    assert [o["value"] for o in actions[1]["options"]] == ["30m", "1h", "2h"]
    assert nudge["metadata"]["event_payload"]["key"].startswith(f"{inc['id']}:update:")
    assert run(h.deps).sent == 0  # the same due time is never nudged twice
    assert len(nudge_messages(h, inc["channel"])) == 1


def test_post_update_button_opens_the_core_update_modal(nh: Harness, clock: Clock) -> None:
    h = nh
    inc = h.declare()
    clock.advance(hours=1)
    run(h.deps)
    [nudge] = nudge_messages(h, inc["channel"])
    h.dispatch(
        h.signer.block_actions(
            user_id=h.bob,
            channel_id=inc["channel"],
            message=nudge,
            actions=[button_action(IncidentAction.POST_UPDATE)],
        )
    )
    opened = wait_for(lambda: h.slack.calls_to("views.open"))
    view = opened[0]["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["callback_id"] == "incident_update"
    assert json.loads(view["private_metadata"])["channel_id"] == inc["channel"]


def test_human_message_or_update_restarts_the_clock(nh: Harness, clock: Clock) -> None:
    h = nh
    inc = h.declare()
    start = clock.now
    clock.at(start, minutes=30)
    human_message(h, inc["channel"], h.bob)
    clock.at(start, hours=1)
    run(h.deps)
    clock.at(start, hours=1, minutes=29, seconds=59)
    run(h.deps)
    assert nudge_messages(h, inc["channel"]) == []
    clock.at(start, hours=1, minutes=30)
    assert run(h.deps).sent == 1
    clock.at(start, hours=2)
    assert h.command("update Rolled back", channel=inc["channel"]).status == 200
    clock.at(start, hours=2, minutes=59)
    run(h.deps)
    assert len(nudge_messages(h, inc["channel"])) == 1
    clock.at(start, hours=3)
    assert run(h.deps).sent == 1


def test_repeats_every_interval_and_catches_up_once(nh: Harness, clock: Clock) -> None:
    h = nh
    inc = h.declare("declare sev3 Slow search")
    start = clock.now
    clock.at(start, hours=1)
    run(h.deps)
    clock.at(start, hours=2)
    run(h.deps)
    assert len(nudge_messages(h, inc["channel"])) == 2
    clock.at(start, hours=7, minutes=40)  # down for over five intervals
    run(h.deps)
    assert run(h.deps).sent == 0
    assert len(nudge_messages(h, inc["channel"])) == 3
    latest = nudge_messages(h, inc["channel"])[-1]
    assert "No messages for 7h 40m" in latest["text"]
    clock.at(start, hours=7, minutes=59, seconds=59)
    assert run(h.deps).sent == 0
    clock.at(start, hours=8)
    run(h.deps)
    dues = [(d.due_at - start).total_seconds() / 3600 for d in deliveries(h, "update")]
    assert dues == [1, 2, 7, 8]


def test_snooze_is_stored_and_survives_a_restart(nh: Harness, clock: Clock) -> None:
    h = nh
    inc = h.declare()
    start = clock.now
    clock.at(start, hours=1)
    run(h.deps)
    [nudge] = nudge_messages(h, inc["channel"])
    select = {
        "type": "static_select",
        "action_id": NudgeAction.SNOOZE,
        "block_id": "nudges_actions",
        "selected_option": {"text": {"type": "plain_text", "text": "2 hours"}, "value": "2h"},
        "action_ts": "1",
    }
    response = h.dispatch(
        h.signer.block_actions(
            user_id=h.bob, channel_id=inc["channel"], message=nudge, actions=[select]
        )
    )
    assert response.status == 200
    wait_for(
        lambda: any("snoozed update nudges" in m["text"] for m in h.slack.messages(inc["channel"]))
    )
    restarted = second_process(h)
    clock.at(start, hours=2)
    run(restarted)
    clock.at(start, hours=2, minutes=59, seconds=59)
    run(restarted)
    assert len(nudge_messages(h, inc["channel"])) == 1
    with session_scope(h.deps.session_factory) as session:
        row = session.get(NudgeSchedule, inc["id"])
        assert row is not None and row.snoozed_by == h.bob
    clock.at(start, hours=3)
    assert run(restarted).sent == 1
    # Snoozing answered the earlier nudge: the one after the snooze is not an escalation.
    assert ":rotating_light:" not in nudge_messages(h, inc["channel"])[-1]["text"]


def test_unanswered_nudges_escalate_to_comms_and_announcement(nh: Harness, clock: Clock) -> None:
    h = nh
    inc = h.declare()
    start = clock.now
    assert h.command(f"role comms <@{h.bob}>", channel=inc["channel"]).status == 200
    wait_for(lambda: len(h.slack.messages(inc["channel"])) >= 2)
    for hours in (1, 2):
        clock.at(start, hours=hours)
        run(h.deps)
    assert h.slack.messages(h.incidents_channel)[-1].get("thread_ts") is None
    clock.at(start, hours=3)
    run(h.deps)
    third = nudge_messages(h, inc["channel"])[-1]
    assert f"<@{h.alice}>" in third["text"] and f"<@{h.bob}>" in third["text"]
    assert "2 nudges went unanswered" in third["text"]
    with session_scope(h.deps.session_factory) as session:
        from bot.incidents.models import Incident

        row = session.get(Incident, inc["id"])
        assert row is not None
        announcement_ts = row.announcement_ts
    [note] = [
        m for m in nudge_messages(h, h.incidents_channel) if m.get("thread_ts") == announcement_ts
    ]
    assert f"<#{inc['channel']}>" in note["text"] and f"<@{h.bob}>" in note["text"]
    human_message(h, inc["channel"], h.alice)
    clock.at(start, hours=4)
    run(h.deps)
    assert ":rotating_light:" not in nudge_messages(h, inc["channel"])[-1]["text"]


def test_no_nudges_after_resolve(nh: Harness, clock: Clock) -> None:
    h = nh
    inc = h.declare()
    clock.advance(minutes=30)
    assert h.command("resolve Fixed", channel=inc["channel"]).status == 200
    clock.advance(hours=5)
    run(h.deps)
    assert deliveries(h, "update") == []


def test_two_processes_polling_together_send_once(nh: Harness, clock: Clock) -> None:
    h = nh
    inc = h.declare()
    clock.advance(hours=1)
    replicas = [h.deps, second_process(h), second_process(h)]
    barrier = threading.Barrier(len(replicas))
    errors: list[BaseException] = []

    def poll(deps: object) -> None:
        try:
            barrier.wait()
            for _ in range(5):
                run_nudges(deps)  # type: ignore[arg-type]
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=poll, args=(d,)) for d in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(nudge_messages(h, inc["channel"])) == 1


def test_crash_after_recording_sends_exactly_once(nh: Harness, clock: Clock) -> None:
    h = nh
    inc = h.declare()
    clock.advance(hours=1)
    assert record_due(h.deps, clock.now) == (1, 1)  # the process dies here, before sending
    assert nudge_messages(h, inc["channel"]) == []
    restarted = second_process(h)
    assert run(restarted).sent == 1
    assert run(restarted).sent == 0
    assert len(nudge_messages(h, inc["channel"])) == 1


def test_crash_after_sending_before_recording_does_not_duplicate(nh: Harness, clock: Clock) -> None:
    h = nh
    inc = h.declare()
    clock.advance(hours=1)
    record_due(h.deps, clock.now)
    [row] = deliveries(h, "update")
    with session_scope(h.deps.session_factory) as session:  # the attempt is counted first...
        stored = session.get(OutboxMessage, row.key)
        assert stored is not None
        stored.attempts, stored.channel_id = 1, inc["channel"]
    posted = h.deps.chat.post_tagged(
        inc["channel"], row.text, row.blocks, key=row.key
    )  # ...then it is sent
    clock.advance(seconds=5)  # and the process dies before recording it
    result = run(second_process(h))
    assert (result.sent, result.failed) == (0, 0)
    assert len(nudge_messages(h, inc["channel"])) == 1
    [recovered] = deliveries(h, "update")
    assert recovered.sent_at is not None and recovered.ts == posted.ts


def test_slack_rate_limits_and_server_errors_are_retried(nh: Harness, clock: Clock) -> None:
    h = nh
    inc = h.declare()
    start = clock.now
    clock.at(start, hours=1)
    h.slack.rate_limit_method("chat.postMessage", retry_after=1)
    assert run(h.deps).sent == 1  # Slack's retry handler waited out the 429
    h.slack.inject(
        lambda r: r.path.endswith("/chat.postMessage"),
        lambda r: Response(503, {"ok": False, "error": "service_unavailable"}),
        4,  # the first try and the client's three retries
    )
    clock.at(start, hours=2)
    result = run(h.deps)
    assert (result.sent, result.failed) == (0, 1)
    [_, pending] = deliveries(h, "update")
    assert pending.sent_at is None and pending.last_error
    assert run(h.deps).sent == 0  # backing off, not dropped
    clock.advance(seconds=1)
    assert run(h.deps).sent == 1
    assert len(nudge_messages(h, inc["channel"])) == 2
    assert deliver_pending(h.deps, clock.now) == (0, 0)


def test_fake_slack_keeps_metadata_like_slack(fake_slack: FakeSlack) -> None:
    slack = fake_slack
    assert isinstance(slack, FakeSlack)
    channel = slack.add_channel("meta")
    client = slack.client()
    meta = {"event_type": "sevbot_nudge", "event_payload": {"key": "1:update:x"}}
    client.chat_postMessage(channel=channel, text="hi", metadata=meta)
    plain = client.conversations_history(channel=channel)["messages"][0]
    assert "metadata" not in plain
    full = client.conversations_history(channel=channel, include_all_metadata=True)
    assert full["messages"][0]["metadata"] == meta
    with pytest.raises(SlackApiError) as bad:
        client.chat_postMessage(channel=channel, text="x", metadata={"event_type": ""})
    assert bad.value.response["error"] == "invalid_metadata_schema"


def test_reopening_restarts_the_silence_clock(nh: Harness, clock: Clock) -> None:
    h = nh
    inc = h.declare()
    clock.advance(minutes=10)
    h.command("resolve", channel=inc["channel"])
    clock.advance(days=3)
    assert h.command("reopen", channel=inc["channel"]).status == 200
    reopened = clock.now
    assert run(h.deps).sent == 0  # not a catch-up for the days it was resolved
    clock.at(reopened, minutes=59)
    assert run(h.deps).sent == 0
    clock.at(reopened, hours=1)
    assert run(h.deps).sent == 1


@pytest.mark.parametrize("answer", ["resolve", "message"])
def test_a_failed_nudge_is_not_sent_after_it_was_answered(
    nh: Harness, clock: Clock, answer: str
) -> None:
    h = nh
    inc = h.declare()
    h.slack.inject(
        lambda r: r.path.endswith("/chat.postMessage"),
        lambda r: Response(503, {"ok": False, "error": "service_unavailable"}),
        4,  # the first try and the client's three retries
    )
    clock.advance(hours=1)
    assert run(h.deps).failed == 1
    clock.advance(seconds=30)
    if answer == "resolve":
        h.command("resolve", channel=inc["channel"])
    else:
        human_message(h, inc["channel"], h.bob)
    clock.advance(minutes=5)
    assert run(h.deps).sent == 0
    assert nudge_messages(h, inc["channel"]) == []
    [closed] = deliveries(h, "update")
    assert closed.last_error is not None and closed.last_error.startswith("superseded")


def test_a_nudge_into_an_archived_channel_is_given_up_not_retried_forever(
    nh: Harness, clock: Clock
) -> None:
    h = nh
    inc = h.declare()
    h.slack.archive_channel(inc["channel"])
    clock.advance(hours=1)
    for _ in range(6):
        run(h.deps)
        clock.advance(minutes=90)  # past any back-off
    first = deliveries(h, "update")[0]
    assert first.attempts == 3 and first.sent_at is not None and first.ts is None
    assert first.last_error is not None and "is_archived" in first.last_error
