"""The pure due-time rules of bot/nudges/rules.py, as tables: facts and a time in, a plan out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.nudges.rules import (
    COMPLETE,
    REMINDER,
    SCHEDULE,
    SCHEDULE_DM,
    UPDATE,
    UPDATE_ESCALATION,
    Due,
    Facts,
    Plan,
    completion_nudges,
    grid_point,
    meeting_reminder,
    next_grid_point,
    nudge_kind,
    plan,
    schedule_nudges,
    superseded,
    update_nudges,
)
from bot.settings import Settings, SeverityLevel

T = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)  # declared
R = T + timedelta(hours=2)  # resolved
M = T + timedelta(days=3)  # the postmortem meeting
H = timedelta(hours=1)
D = timedelta(days=1)


def settings(**overrides: Any) -> Settings:
    """Return the policy the tables assume; SEV-1 has its own, shorter silence interval."""
    values: dict[str, Any] = {
        "severities": [
            SeverityLevel(name="SEV-1", update_nudge_after=timedelta(minutes=30)),
            SeverityLevel(name="SEV-2"),
        ],
        "default_severity": "SEV-2",
        "update_nudge_after": H,
        "nudge_escalate_after": 2,
        "postmortem_schedule_nudge_after": D,
        "postmortem_complete_nudge_after": 2 * D,
        "postmortem_complete_escalate_after": 3,
        "managers_channel": "C_MANAGERS",
        "meeting_reminder_before": H,
    }
    values.update(overrides)
    return Settings(**values)


def open_incident(**overrides: Any) -> Facts:
    """Return a SEV-2 declared at T with a channel, no messages and no nudges yet."""
    values: dict[str, Any] = {
        "incident_id": 7,
        "severity": "SEV-2",
        "status": "active",
        "channel_id": "C7",
        "declared_at": T,
        "last_human_message_at": None,
        "last_update_at": None,
        "resolved_at": None,
        "meeting_at": None,
        "postmortem_status": "Draft",
    }
    values.update(overrides)
    return Facts(**values)


def resolved_incident(**overrides: Any) -> Facts:
    """Return the same incident, resolved at R with the postmortem still a draft."""
    return open_incident(**{"status": "resolved", "resolved_at": R, **overrides})


@pytest.mark.parametrize(
    ("key", "kind"),
    [
        ("7:update:2030-01-07T10:00:00+00:00", UPDATE),
        ("7:update_escalation:2030-01-07T10:00:00+00:00", UPDATE_ESCALATION),
        ("7:schedule_dm:2030-01-08T11:00:00+00:00", SCHEDULE_DM),
        ("7:reminder:", REMINDER),
        ("7:meeting_announcement:2030-01-08", None),
        ("7:update", None),
        ("update", None),
        ("", None),
    ],
)
def test_nudge_kind(key: str, kind: str | None) -> None:
    assert nudge_kind(key) == kind


@pytest.mark.parametrize(
    ("now", "point"),
    [
        (T - H, None),
        (T, None),
        (T + timedelta(minutes=59), None),
        (T + H, T + H),
        (T + timedelta(hours=1, minutes=59), T + H),
        (T + 3 * H, T + 3 * H),
    ],
)
def test_grid_point_is_the_latest_step_at_or_before_now(now: datetime, point: datetime) -> None:
    assert grid_point(T, H, now) == point


@pytest.mark.parametrize(
    ("now", "upcoming"),
    [
        (T - 5 * H, T + H),
        (T, T + H),
        (T + timedelta(minutes=59), T + H),
        (T + H, T + 2 * H),
        (T + timedelta(hours=2, minutes=30), T + 3 * H),
    ],
)
def test_next_grid_point_is_strictly_after_now(now: datetime, upcoming: datetime) -> None:
    assert next_grid_point(T, H, now) == upcoming


@pytest.mark.parametrize(
    ("overrides", "activity_at", "is_open"),
    [
        ({}, T, True),
        ({"last_human_message_at": T + H}, T + H, True),
        ({"last_human_message_at": T + H, "last_update_at": T + 2 * H}, T + 2 * H, True),
        ({"last_human_message_at": T + 3 * H, "last_update_at": T + 2 * H}, T + 3 * H, True),
        ({"status": "mitigated"}, T, True),
        ({"status": "resolved"}, T, False),
    ],
)
def test_the_silence_clock_and_openness(
    overrides: dict[str, Any], activity_at: datetime, is_open: bool
) -> None:
    facts = open_incident(**overrides)
    assert (facts.activity_at, facts.is_open) == (activity_at, is_open)


@pytest.mark.parametrize(
    ("overrides", "now", "due", "next_due_at"),
    [
        pytest.param({"status": "resolved"}, T + 5 * H, [], None, id="resolved"),
        pytest.param({"channel_id": None}, T + 5 * H, [], None, id="no channel"),
        pytest.param({}, T + timedelta(minutes=30), [], T + H, id="not yet silent"),
        pytest.param({}, T + H, [Due(UPDATE, T + H, H, 1)], T + 2 * H, id="first nudge"),
        pytest.param(
            {"severity": "SEV-1"},
            T + timedelta(minutes=30),
            [Due(UPDATE, T + timedelta(minutes=30), timedelta(minutes=30), 1)],
            T + H,
            id="severity's own interval",
        ),
        pytest.param(
            {"sent": {UPDATE: [T + H]}}, T + timedelta(minutes=90), [], T + 2 * H, id="sent"
        ),
        pytest.param(
            {},
            T + timedelta(hours=5, minutes=10),
            [Due(UPDATE, T + 5 * H, timedelta(hours=5, minutes=10), 1)],
            T + 6 * H,
            id="one catch-up, never a burst",
        ),
        pytest.param(
            {"sent": {UPDATE: [T + H]}},
            T + 2 * H,
            [Due(UPDATE, T + 2 * H, 2 * H, 2)],
            T + 3 * H,
            id="second, not yet escalated",
        ),
        pytest.param(
            {"sent": {UPDATE: [T + H, T + 2 * H]}},
            T + 3 * H,
            [
                Due(UPDATE, T + 3 * H, 3 * H, 3, escalate=True),
                Due(UPDATE_ESCALATION, T + 3 * H, 3 * H, 3, escalate=True),
            ],
            T + 4 * H,
            id="escalated after two unanswered",
        ),
        pytest.param(
            {"last_human_message_at": T + timedelta(minutes=90), "sent": {UPDATE: [T + H]}},
            T + 2 * H,
            [],
            T + timedelta(minutes=150),
            id="the channel spoke: the clock restarts",
        ),
        pytest.param(
            {"snooze_until": T + timedelta(minutes=150), "snoozed_at": T + timedelta(minutes=30)},
            T + 2 * H,
            [],
            T + timedelta(minutes=150),
            id="snoozed until before the next step",
        ),
        pytest.param(
            {"snooze_until": T + 5 * H, "snoozed_at": T + timedelta(minutes=30)},
            T + 2 * H,
            [],
            T + 3 * H,
            id="snoozed past the next step",
        ),
        pytest.param(
            {
                "sent": {UPDATE: [T + H, T + 2 * H]},
                "snoozed_at": T + timedelta(minutes=130),
                "snooze_until": T + timedelta(minutes=160),
            },
            T + 3 * H,
            [Due(UPDATE, T + 3 * H, 3 * H, 1)],
            T + 4 * H,
            id="a snooze answers the earlier nudges",
        ),
    ],
)
def test_update_nudges(
    overrides: dict[str, Any], now: datetime, due: list[Due], next_due_at: datetime | None
) -> None:
    assert update_nudges(open_incident(**overrides), settings(), now) == Plan(due, next_due_at)


@pytest.mark.parametrize(
    ("facts", "now", "due", "next_due_at"),
    [
        pytest.param(open_incident(), R + 2 * D, [], None, id="still open"),
        pytest.param(open_incident(status="resolved"), R + 2 * D, [], None, id="no resolved time"),
        pytest.param(resolved_incident(meeting_at=M), R + 2 * D, [], None, id="meeting booked"),
        pytest.param(
            resolved_incident(postmortem_status="Complete"), R + 2 * D, [], None, id="complete"
        ),
        pytest.param(resolved_incident(), R + H, [], R + D, id="not yet"),
        pytest.param(
            resolved_incident(),
            R + D,
            [Due(SCHEDULE, R + D, D, 1), Due(SCHEDULE_DM, R + D, D, 1)],
            R + 2 * D,
            id="channel and DM together",
        ),
        pytest.param(
            resolved_incident(sent={SCHEDULE: [R + D]}), R + 30 * H, [], R + 2 * D, id="sent"
        ),
        pytest.param(
            resolved_incident(sent={SCHEDULE: [R + D]}),
            R + 2 * D,
            [Due(SCHEDULE, R + 2 * D, 2 * D, 2), Due(SCHEDULE_DM, R + 2 * D, 2 * D, 2)],
            R + 3 * D,
            id="second",
        ),
        pytest.param(
            resolved_incident(meeting_cancelled_at=R + 30 * H, sent={SCHEDULE: [R + D]}),
            R + 2 * D,
            [],
            R + 30 * H + D,
            id="a cancelled meeting restarts the clock",
        ),
    ],
)
def test_schedule_nudges(
    facts: Facts, now: datetime, due: list[Due], next_due_at: datetime | None
) -> None:
    assert schedule_nudges(facts, settings(), now) == Plan(due, next_due_at)


@pytest.mark.parametrize(
    ("facts", "now", "due", "next_due_at"),
    [
        pytest.param(resolved_incident(), M - 2 * H, [], None, id="no meeting"),
        pytest.param(resolved_incident(meeting_at=M), M, [], None, id="meeting started"),
        pytest.param(resolved_incident(meeting_at=M), M - 3 * H, [], M - H, id="not yet"),
        pytest.param(
            resolved_incident(meeting_at=M), M - H, [Due(REMINDER, M - H, H)], None, id="due"
        ),
        pytest.param(
            resolved_incident(meeting_at=M),
            M - timedelta(minutes=20),
            [Due(REMINDER, M - H, timedelta(minutes=20))],
            None,
            id="late: says how soon",
        ),
        pytest.param(
            resolved_incident(meeting_at=M, sent={REMINDER: [M - H]}),
            M - timedelta(minutes=20),
            [],
            None,
            id="sent",
        ),
        pytest.param(
            open_incident(meeting_at=M), M - H, [Due(REMINDER, M - H, H)], None, id="even open"
        ),
    ],
)
def test_meeting_reminder(
    facts: Facts, now: datetime, due: list[Due], next_due_at: datetime | None
) -> None:
    assert meeting_reminder(facts, settings(), now) == Plan(due, next_due_at)


@pytest.mark.parametrize(
    ("facts", "managers", "now", "due", "next_due_at"),
    [
        pytest.param(open_incident(), "C_MANAGERS", R + 3 * D, [], None, id="still open"),
        pytest.param(
            resolved_incident(postmortem_status="Complete"),
            "C_MANAGERS",
            R + 3 * D,
            [],
            None,
            id="complete",
        ),
        pytest.param(resolved_incident(), "C_MANAGERS", R + D, [], R + 2 * D, id="not yet"),
        pytest.param(
            resolved_incident(),
            "C_MANAGERS",
            R + 2 * D,
            [Due(COMPLETE, R + 2 * D, 2 * D, 1)],
            R + 4 * D,
            id="first",
        ),
        pytest.param(
            resolved_incident(meeting_at=M),
            "C_MANAGERS",
            R + 2 * D,
            [Due(COMPLETE, R + 2 * D, 2 * D, 1)],
            R + 4 * D,
            id="a meeting does not stop it",
        ),
        pytest.param(
            resolved_incident(sent={COMPLETE: [R + 2 * D, R + 4 * D]}),
            "C_MANAGERS",
            R + 6 * D,
            [Due(COMPLETE, R + 6 * D, 6 * D, 3)],
            R + 8 * D,
            id="third, not yet escalated",
        ),
        pytest.param(
            resolved_incident(sent={COMPLETE: [R + 2 * D, R + 4 * D, R + 6 * D]}),
            "C_MANAGERS",
            R + 8 * D,
            [Due(COMPLETE, R + 8 * D, 8 * D, 4, escalate=True)],
            R + 10 * D,
            id="escalated after three",
        ),
        pytest.param(
            resolved_incident(sent={COMPLETE: [R + 2 * D, R + 4 * D, R + 6 * D]}),
            None,
            R + 8 * D,
            [Due(COMPLETE, R + 8 * D, 8 * D, 4)],
            R + 10 * D,
            id="no managers channel: no escalation",
        ),
    ],
)
def test_completion_nudges(
    facts: Facts,
    managers: str | None,
    now: datetime,
    due: list[Due],
    next_due_at: datetime | None,
) -> None:
    policy = settings(managers_channel=managers)
    assert completion_nudges(facts, policy, now) == Plan(due, next_due_at)


@pytest.mark.parametrize(
    ("facts", "now", "due", "next_due_at"),
    [
        pytest.param(
            resolved_incident(postmortem_status="Complete"), R + 9 * D, [], None, id="all done"
        ),
        pytest.param(open_incident(), T + H, [Due(UPDATE, T + H, H, 1)], T + 2 * H, id="open"),
        pytest.param(
            open_incident(meeting_at=T + timedelta(minutes=100)),
            T + timedelta(minutes=30),
            [],
            T + timedelta(minutes=40),
            id="earliest of silence and reminder",
        ),
        pytest.param(
            resolved_incident(meeting_at=M),
            M - H,
            [Due(REMINDER, M - H, H), Due(COMPLETE, R + 2 * D, M - H - R, 1)],
            R + 4 * D,
            id="reminder and completion at once",
        ),
    ],
)
def test_plan_combines_every_rule(
    facts: Facts, now: datetime, due: list[Due], next_due_at: datetime | None
) -> None:
    assert plan(facts, settings(), now) == Plan(due, next_due_at)


RECORDED = T + 2 * H


@pytest.mark.parametrize(
    ("kind", "due_at", "facts", "now", "reason"),
    [
        (UPDATE, T + 2 * H, open_incident(), T + 3 * H, None),
        (UPDATE, T + 2 * H, open_incident(status="resolved"), T + 3 * H, "resolved"),
        (
            UPDATE_ESCALATION,
            T + 2 * H,
            open_incident(last_human_message_at=RECORDED + H),
            T + 4 * H,
            "the channel spoke since",
        ),
        (
            UPDATE,
            T + 2 * H,
            open_incident(last_update_at=RECORDED - H),
            T + 3 * H,
            None,
        ),
        (
            UPDATE,
            T + 2 * H,
            open_incident(snoozed_at=RECORDED + H, snooze_until=RECORDED + 2 * H),
            T + 4 * H,
            "snoozed since",
        ),
        (SCHEDULE, R + D, resolved_incident(), R + 2 * D, None),
        (SCHEDULE, R + D, resolved_incident(meeting_at=M), R + 2 * D, "a meeting is booked"),
        (
            SCHEDULE_DM,
            R + D,
            resolved_incident(postmortem_status="Complete"),
            R + 2 * D,
            "no longer waiting for a meeting",
        ),
        (SCHEDULE, R + D, open_incident(), R + 2 * D, "no longer waiting for a meeting"),
        (REMINDER, M - H, resolved_incident(meeting_at=M), M - timedelta(minutes=30), None),
        (
            REMINDER,
            M - H,
            resolved_incident(),
            M - timedelta(minutes=30),
            "the meeting moved or was cancelled",
        ),
        (
            REMINDER,
            M - H,
            resolved_incident(meeting_at=M + D),
            M - timedelta(minutes=30),
            "the meeting moved or was cancelled",
        ),
        (REMINDER, M - H, resolved_incident(meeting_at=M), M, "the meeting has started"),
        (COMPLETE, R + 2 * D, resolved_incident(), R + 3 * D, None),
        (
            COMPLETE,
            R + 2 * D,
            resolved_incident(postmortem_status="Complete"),
            R + 3 * D,
            "the postmortem is complete",
        ),
        (COMPLETE, R + 2 * D, open_incident(), R + 3 * D, "the postmortem is complete"),
        ("meeting_announcement", R, resolved_incident(), R + D, None),
    ],
)
def test_superseded_retries(
    kind: str, due_at: datetime, facts: Facts, now: datetime, reason: str | None
) -> None:
    recorded_at = RECORDED if kind in (UPDATE, UPDATE_ESCALATION) else due_at
    assert superseded(kind, due_at, recorded_at, facts, settings(), now) == reason
