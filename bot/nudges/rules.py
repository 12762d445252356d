"""Due-time rules: which nudges an incident needs now, and when to look at it again (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.i18n import N_
from bot.settings import Settings

UPDATE = "update"
UPDATE_ESCALATION = "update_escalation"
SCHEDULE = "schedule"
SCHEDULE_DM = "schedule_dm"
REMINDER = "reminder"
COMPLETE = "complete"
# The kinds whose due times make the grid; the others ride along with one of them.
GRID_KINDS = (UPDATE, SCHEDULE, REMINDER, COMPLETE)
ALL_KINDS = (*GRID_KINDS, UPDATE_ESCALATION, SCHEDULE_DM)
# How long a nudge may be snoozed, with its label (translated where it is shown).
SNOOZE_CHOICES = {"30m": N_("30 minutes"), "1h": N_("1 hour"), "2h": N_("2 hours")}


def nudge_kind(key: str) -> str | None:
    """Return the kind of nudge an outbox key (incident:kind:due time) is, or None."""
    parts = key.split(":", 2)
    return parts[1] if len(parts) == 3 and parts[1] in ALL_KINDS else None


@dataclass(frozen=True)
class Facts:
    """Everything the rules need about one incident, read from the database."""

    incident_id: int
    severity: str
    status: str
    channel_id: str | None
    declared_at: datetime
    last_human_message_at: datetime | None
    last_update_at: datetime | None
    resolved_at: datetime | None
    meeting_at: datetime | None
    postmortem_status: str
    meeting_cancelled_at: datetime | None = None
    number: int = 0
    title: str = ""
    commander_id: str | None = None
    comms_id: str | None = None
    reporter_id: str | None = None
    announcement_channel_id: str | None = None
    announcement_ts: str | None = None
    snooze_until: datetime | None = None
    snoozed_at: datetime | None = None
    # Due times of nudges already recorded, by kind.
    sent: dict[str, list[datetime]] = field(default_factory=dict)

    @property
    def activity_at(self) -> datetime:
        """Return when the channel's silence clock last restarted."""
        times = [self.declared_at, self.last_human_message_at, self.last_update_at]
        return max(t for t in times if t is not None)

    @property
    def is_open(self) -> bool:
        """Say whether the incident is still being worked on."""
        return self.status != "resolved"

    @property
    def postmortem_owner(self) -> str | None:
        """Return who owns the postmortem: the commander, else the reporter."""
        return self.commander_id or self.reporter_id


@dataclass(frozen=True)
class Due:
    """One nudge to send now: its kind, its due time and what the message needs to say."""

    kind: str
    due_at: datetime
    silence: timedelta = timedelta(0)
    count: int = 0
    escalate: bool = False


@dataclass(frozen=True)
class Plan:
    """The nudges due now and the next time anything can become due (None: never)."""

    due: list[Due]
    next_due_at: datetime | None


def grid_point(anchor: datetime, interval: timedelta, now: datetime) -> datetime | None:
    """Return the latest anchor + k·interval (k ≥ 1) at or before now, or None."""
    if now < anchor + interval:
        return None
    return anchor + (now - anchor) // interval * interval


def next_grid_point(anchor: datetime, interval: timedelta, now: datetime) -> datetime:
    """Return the first anchor + k·interval (k ≥ 1) strictly after now."""
    steps = max((now - anchor) // interval, 0) + 1
    return anchor + steps * interval


def _since(facts: Facts, kind: str, after: datetime) -> list[datetime]:
    return sorted(d for d in facts.sent.get(kind, []) if d > after)


def _repeating(
    facts: Facts, kind: str, anchor: datetime, interval: timedelta, now: datetime
) -> tuple[datetime | None, list[datetime]]:
    """Return the due grid point not yet nudged (one catch-up, never a burst) and past nudges."""
    sent = _since(facts, kind, anchor)
    point = grid_point(anchor, interval, now)
    if point is not None and (not sent or sent[-1] < point):
        return point, sent
    return None, sent


def update_nudges(facts: Facts, settings: Settings, now: datetime) -> Plan:
    """Plan the silence nudges of an open incident."""
    if not facts.is_open or facts.channel_id is None:
        return Plan([], None)
    anchor = facts.activity_at
    interval = settings.update_nudge_interval(facts.severity)
    upcoming = next_grid_point(anchor, interval, now)
    if facts.snooze_until is not None and now < facts.snooze_until:
        return Plan([], min(upcoming, facts.snooze_until))
    point, sent = _repeating(facts, UPDATE, anchor, interval, now)
    if point is None:
        return Plan([], upcoming)
    answered_at = max(anchor, facts.snoozed_at or anchor)
    unanswered = len([d for d in sent if d > answered_at])
    escalate = unanswered >= settings.nudge_escalate_after
    due = [Due(UPDATE, point, now - anchor, unanswered + 1, escalate)]
    if escalate:
        due.append(Due(UPDATE_ESCALATION, point, now - anchor, unanswered + 1, True))
    return Plan(due, upcoming)


def schedule_nudges(facts: Facts, settings: Settings, now: datetime) -> Plan:
    """Plan the 'please schedule the postmortem meeting' nudges of a resolved incident."""
    if (
        facts.is_open
        or facts.resolved_at is None
        or facts.meeting_at is not None
        or facts.postmortem_status == "Complete"
    ):
        return Plan([], None)
    anchor = max(facts.resolved_at, facts.meeting_cancelled_at or facts.resolved_at)
    interval = settings.postmortem_schedule_nudge_after
    upcoming = next_grid_point(anchor, interval, now)
    point, sent = _repeating(facts, SCHEDULE, anchor, interval, now)
    if point is None:
        return Plan([], upcoming)
    count = len(sent) + 1
    return Plan(
        [Due(SCHEDULE, point, now - anchor, count), Due(SCHEDULE_DM, point, now - anchor, count)],
        upcoming,
    )


def meeting_reminder(facts: Facts, settings: Settings, now: datetime) -> Plan:
    """Plan the reminder a lead time before the recorded meeting (skipped once it started)."""
    if facts.meeting_at is None or now >= facts.meeting_at:
        return Plan([], None)
    due_at = facts.meeting_at - settings.meeting_reminder_before
    if now < due_at:
        return Plan([], due_at)
    if due_at in facts.sent.get(REMINDER, []):
        return Plan([], None)
    return Plan([Due(REMINDER, due_at, facts.meeting_at - now)], None)


def completion_nudges(facts: Facts, settings: Settings, now: datetime) -> Plan:
    """Plan the 'please complete the postmortem' nudges, escalating after enough of them."""
    if facts.is_open or facts.resolved_at is None or facts.postmortem_status == "Complete":
        return Plan([], None)
    anchor = facts.resolved_at
    interval = settings.postmortem_complete_nudge_after
    upcoming = next_grid_point(anchor, interval, now)
    point, sent = _repeating(facts, COMPLETE, anchor, interval, now)
    if point is None:
        return Plan([], upcoming)
    escalate = (
        len(sent) >= settings.postmortem_complete_escalate_after
        and settings.managers_channel is not None
    )
    return Plan([Due(COMPLETE, point, now - anchor, len(sent) + 1, escalate)], upcoming)


def plan(facts: Facts, settings: Settings, now: datetime) -> Plan:
    """Combine every rule: the nudges due now and the earliest next due time."""
    plans = [
        rule(facts, settings, now)
        for rule in (update_nudges, schedule_nudges, meeting_reminder, completion_nudges)
    ]
    upcoming = [p.next_due_at for p in plans if p.next_due_at is not None]
    return Plan([d for p in plans for d in p.due], min(upcoming) if upcoming else None)


def superseded(
    kind: str,
    due_at: datetime,
    recorded_at: datetime,
    facts: Facts,
    settings: Settings,
    now: datetime,
) -> str | None:
    """Say why a recorded but unsent nudge no longer applies (None: send it).

    A nudge whose send failed is retried later; by then the incident may be resolved, the
    channel may have spoken, a meeting may be booked. Those retries must not go out.
    """
    if kind in (UPDATE, UPDATE_ESCALATION):
        if not facts.is_open:
            return "resolved"
        if facts.activity_at > recorded_at:
            return "the channel spoke since"
        if facts.snoozed_at is not None and facts.snoozed_at > recorded_at:
            return "snoozed since"
    elif kind in (SCHEDULE, SCHEDULE_DM):
        if facts.meeting_at is not None:
            return "a meeting is booked"
        if facts.postmortem_status == "Complete" or facts.is_open:
            return "no longer waiting for a meeting"
    elif kind == REMINDER:
        if (
            facts.meeting_at is None
            or facts.meeting_at - settings.meeting_reminder_before != due_at
        ):
            return "the meeting moved or was cancelled"
        if now >= facts.meeting_at:
            return "the meeting has started"
    elif kind == COMPLETE and (facts.postmortem_status == "Complete" or facts.is_open):
        return "the postmortem is complete"
    return None
