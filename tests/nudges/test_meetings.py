"""Scheduling the postmortem meeting: command, modal, .ics invitations, reminder."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from icalendar import Calendar

from bot.db import session_scope
from bot.fakes.slack_requests import button_action, multi_users_select_value, plain_text_value
from bot.postmortems import service as postmortems
from bot.postmortems.events import PostmortemMeetingChanged
from bot.slack.ids import NudgeAction, NudgeBlock, NudgeCallback, NudgeInput
from tests.harness import Harness
from tests.nudges.conftest import Clock, deliveries, nudge_messages, run, wait_for


def _resolved(h: Harness) -> dict[str, Any]:
    inc = h.declare()
    assert h.command("resolve Fixed", channel=inc["channel"]).status == 200
    wait_for(lambda: any("Resolved" in m["text"] for m in h.slack.messages(inc["channel"])))
    h.settle()  # the resolve's follow-ups (summary, postmortem notice) are all posted
    return inc


def _meeting_at(h: Harness, incident_id: int) -> datetime | None:
    with session_scope(h.deps.session_factory) as session:
        found = postmortems.get(incident_id, session=session)
        return found.meeting_at if found else None


def _ics_files(h: Harness, count: int) -> list[Any]:
    def shared() -> list[dict[str, Any]]:
        return [f for f in h.slack.files.values() if f["content"] and f.get("channels")]

    wait_for(lambda: len(shared()) >= count, "ics upload")
    files = sorted(shared(), key=lambda f: f["id"])
    events = []
    for file in files:
        cal = Calendar.from_ical(file["content"])
        events.append((cal, next(iter(cal.walk("VEVENT")))))
    return events


def _attendees(event: Any) -> list[str]:
    found = event.get("ATTENDEE") or []
    return sorted(str(a) for a in (found if isinstance(found, list) else [found]))


def _reply(response: Any) -> str:
    return str(json.loads(response.body or "{}").get("text", ""))


def test_schedule_command_uses_profile_timezone_and_shares_ics(nh: Harness, clock: Clock) -> None:
    h = nh
    inc = _resolved(h)
    seen: list[object] = []
    h.deps.bus.subscribe(PostmortemMeetingChanged, seen.append)
    response = h.command("schedule 2030-01-09 15:00", channel=inc["channel"])
    assert "Scheduling" in _reply(response)
    [(cal, event)] = _ics_files(h, 1)
    # alice's Slack profile says Asia/Seoul (UTC+9).
    assert _meeting_at(h, inc["id"]) == datetime(2030, 1, 9, 6, 0, tzinfo=UTC)
    assert str(cal["METHOD"]) == "REQUEST"
    assert event.decoded("DTSTART") == datetime(2030, 1, 9, 6, 0, tzinfo=UTC)
    assert event.decoded("DTEND") == datetime(2030, 1, 9, 7, 0, tzinfo=UTC)  # default 1h
    assert int(event["SEQUENCE"]) == 0
    assert _attendees(event) == ["mailto:alice@example.com"]  # the channel's members
    post = h.slack.messages(inc["channel"])[-1]
    assert "scheduled the postmortem meeting" in post["text"] and "Asia/Seoul" in post["text"]
    wait_for(lambda: seen == [PostmortemMeetingChanged(inc["id"])], "the event, after the post")


def test_reschedule_keeps_uid_and_cancel_sends_cancel(nh: Harness, clock: Clock) -> None:
    h = nh
    inc = _resolved(h)
    h.command("schedule 2030-01-09 15:00 Europe/Berlin", channel=inc["channel"])
    _ics_files(h, 1)
    h.command("schedule 2030-01-10 09:30 Europe/Berlin", channel=inc["channel"])
    _ics_files(h, 2)
    assert _meeting_at(h, inc["id"]) == datetime(2030, 1, 10, 8, 30, tzinfo=UTC)
    h.command("schedule cancel", channel=inc["channel"])
    [(_, first), (_, moved), (cancel_cal, cancelled)] = _ics_files(h, 3)
    assert first["UID"] == moved["UID"] == cancelled["UID"]
    assert [int(e["SEQUENCE"]) for e in (first, moved, cancelled)] == [0, 1, 2]
    assert str(cancel_cal["METHOD"]) == "CANCEL" and str(cancelled["STATUS"]) == "CANCELLED"
    assert _meeting_at(h, inc["id"]) is None
    reply = _reply(h.command("schedule cancel", channel=inc["channel"]))
    assert "no postmortem meeting to cancel" in reply


def test_bad_schedule_input_is_rejected_and_changes_nothing(nh: Harness, clock: Clock) -> None:
    h = nh
    inc = _resolved(h)
    cases = {
        "schedule 2030-01-06 10:00 UTC": "in the past",
        "schedule 2030-01-09 10:00 Mars/Olympus": "not an IANA timezone",
        "schedule tomorrow": "could not read a date",
        "schedule 2030-02-30 10:00": "not a real date",
    }
    for text, expected in cases.items():
        assert expected in _reply(h.command(text, channel=inc["channel"])), text
    assert "only works in an incident channel" in _reply(
        h.command("schedule 2030-01-09 10:00", channel=h.general)
    )
    # Past only in alice's own timezone (Asia/Seoul, UTC+9): caught after the profile lookup.
    h.command("schedule 2030-01-07 17:30", channel=inc["channel"])
    ephemeral = wait_for(lambda: h.slack.ephemeral_messages(inc["channel"]))
    assert "in the past" in ephemeral[-1]["text"]
    assert _meeting_at(h, inc["id"]) is None and h.slack.files == {}


def _submit(h: Harness, view: dict[str, Any], *, day: str, time: str, tz: str) -> Any:
    values: dict[str, dict[str, dict[str, Any]]] = {
        NudgeBlock.DATE: {NudgeInput.DATE: {"type": "datepicker", "selected_date": day}},
        NudgeBlock.TIME: {NudgeInput.TIME: {"type": "timepicker", "selected_time": time}},
        NudgeBlock.TIMEZONE: {NudgeInput.TIMEZONE: plain_text_value(tz)},
        NudgeBlock.DURATION: {NudgeInput.DURATION: plain_text_value("1h30m")},
        NudgeBlock.ATTENDEES: {NudgeInput.ATTENDEES: multi_users_select_value([h.bob])},
    }
    return h.dispatch(
        h.signer.view_submission(
            user_id=h.bob,
            callback_id=NudgeCallback.SCHEDULE,
            values=values,
            private_metadata=view["private_metadata"],
        )
    )


def test_schedule_nudges_button_modal_and_reminder(nh: Harness, clock: Clock) -> None:
    h = nh
    inc = _resolved(h)
    resolved = clock.now
    clock.at(resolved, hours=23, minutes=59, seconds=59)
    run(h.deps)
    assert deliveries(h, "schedule") == []
    clock.at(resolved, hours=24)
    run(h.deps)
    [nudge] = nudge_messages(h, inc["channel"])
    assert nudge["text"].startswith("A day has passed without a calendar invite")
    button = nudge["blocks"][-1]["elements"][0]
    assert button["action_id"] == NudgeAction.SCHEDULE_MEETING
    [dm] = [d for d in deliveries(h, "schedule_dm")]
    assert dm.target == h.alice and dm.sent_at is not None  # the commander's DM
    h.dispatch(
        h.signer.block_actions(
            user_id=h.bob,
            channel_id=inc["channel"],
            message=nudge,
            actions=[button_action(NudgeAction.SCHEDULE_MEETING, button["value"])],
        )
    )
    call = wait_for(lambda: h.slack.calls_to("views.open"))[0]
    view = call["view"] if isinstance(call["view"], dict) else json.loads(call["view"])
    blocks = {b["block_id"]: b["element"] for b in view["blocks"]}
    assert blocks[NudgeBlock.TIMEZONE]["initial_value"] == "Europe/Berlin"  # bob's profile
    assert h.alice in blocks[NudgeBlock.ATTENDEES]["initial_users"]
    bad_tz = json.loads(_submit(h, view, day="2030-01-10", time="10:00", tz="Nowhere").body)
    assert bad_tz["response_action"] == "errors" and NudgeBlock.TIMEZONE in bad_tz["errors"]
    past = json.loads(_submit(h, view, day="2030-01-01", time="10:00", tz="UTC").body)
    assert "in the past" in past["errors"][NudgeBlock.DATE]
    assert _submit(h, view, day="2030-01-10", time="10:00", tz="Europe/Berlin").body == ""
    [(_, event)] = _ics_files(h, 1)
    meeting_at = datetime(2030, 1, 10, 9, 0, tzinfo=UTC)
    assert event.decoded("DTSTART") == meeting_at
    assert (event.decoded("DTEND") - meeting_at).total_seconds() == 5400
    assert _attendees(event) == ["mailto:bob@example.com"]
    clock.at(resolved, hours=48)
    run(h.deps)
    assert len(deliveries(h, "schedule")) == 1  # the meeting stopped the nudges
    clock.at(meeting_at, hours=-1, seconds=-1)
    run(h.deps)
    assert deliveries(h, "reminder") == []
    clock.at(meeting_at, hours=-1)
    run(h.deps)
    [reminder] = deliveries(h, "reminder")
    assert reminder.sent_at is not None and "starts in 1h" in reminder.text
    clock.at(meeting_at, minutes=-10)
    run(h.deps)
    assert len(deliveries(h, "reminder")) == 1


def test_meeting_from_notion_counts_and_cancel_resumes_nudges(nh: Harness, clock: Clock) -> None:
    h = nh
    inc = _resolved(h)
    resolved = clock.now
    clock.at(resolved, hours=24)
    run(h.deps)
    clock.at(resolved, hours=48)
    run(h.deps)
    assert len(deliveries(h, "schedule")) == 2
    meeting_at = datetime(2030, 1, 12, 14, 0, tzinfo=UTC)
    with session_scope(h.deps.session_factory) as session:
        postmortems.record_meeting(inc["id"], meeting_at, session=session, source="notion")
    clock.at(resolved, hours=72)
    run(h.deps)
    assert len(deliveries(h, "schedule")) == 2
    clock.at(resolved, hours=80)
    h.command("schedule cancel", channel=inc["channel"])
    [(cal, event)] = _ics_files(h, 1)
    assert str(cal["METHOD"]) == "CANCEL" and event.decoded("DTSTART") == meeting_at
    cancelled = clock.now
    clock.at(cancelled, hours=23, minutes=59)
    run(h.deps)
    assert len(deliveries(h, "schedule")) == 2
    clock.at(cancelled, hours=24)
    run(h.deps)
    assert len(deliveries(h, "schedule")) == 3
