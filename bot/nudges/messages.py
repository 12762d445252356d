"""Pure Block Kit builders of the nudge messages."""

from __future__ import annotations

import copy
import functools
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    Option,
    StaticSelectElement,
)

from bot.nudges import rules
from bot.nudges.ids import SNOOZE_CHOICES, NudgeAction, NudgeBlock
from bot.nudges.rules import Due, Facts
from bot.slack.ids import Action
from bot.text import format_duration, mention, neutralise

Message = tuple[str, list[dict[str, Any]]]


def _mention(user_id: str | None) -> str:
    return mention(user_id) if user_id else "Someone"


def _label(facts: Facts) -> str:
    return f"INC-{facts.number}"


def _slack_date(at: datetime) -> str:
    fallback = at.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(at.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def _section(text: str) -> dict[str, Any]:
    # A plain dict: the SDK model's validation costs milliseconds per nudge.
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


@functools.cache
def _update_actions() -> dict[str, Any]:
    snooze = StaticSelectElement(
        action_id=NudgeAction.SNOOZE,
        placeholder="Snooze",
        options=[Option(text=label, value=value) for value, label in SNOOZE_CHOICES.items()],
    )
    post = ButtonElement(text="Post update", action_id=Action.POST_UPDATE, style="primary")
    return ActionsBlock(block_id=NudgeBlock.ACTIONS, elements=[post, snooze]).to_dict()


def update_actions() -> dict[str, Any]:
    """Build the [Post update] button and the [Snooze] select of an update nudge."""
    return copy.deepcopy(_update_actions())


def schedule_button(incident_id: int) -> dict[str, Any]:
    """Build the [Schedule meeting] button."""
    button = ButtonElement(
        text="Schedule meeting",
        action_id=NudgeAction.SCHEDULE_MEETING,
        value=str(incident_id),
        style="primary",
    )
    return ActionsBlock(block_id=NudgeBlock.ACTIONS, elements=[button]).to_dict()


def update_nudge(facts: Facts, due: Due) -> Message:
    """Say how long the channel has been silent, mentioning the commander (and comms)."""
    silent = format_duration(due.silence.total_seconds())
    who = _mention(facts.commander_id)
    if due.escalate:
        comms = facts.comms_id or facts.commander_id
        who = " ".join(dict.fromkeys([_mention(facts.commander_id), _mention(comms)]))
        text = (
            f":rotating_light: No messages for {silent}, and {due.count - 1} nudges went "
            f"unanswered. {who}, please post an update."
        )
    else:
        who = f"{who}, someone" if facts.commander_id else "Someone"
        text = f"No messages for {silent}. {who} please post an update."
    return text, [_section(text), update_actions()]


def update_escalation(facts: Facts, due: Due) -> Message:
    """Note in the announcement thread that the incident channel has gone quiet."""
    comms = facts.comms_id or facts.commander_id
    who = " ".join(dict.fromkeys([_mention(facts.commander_id), _mention(comms)]))
    text = (
        f"{_label(facts)} has had no messages for {format_duration(due.silence.total_seconds())} "
        f"after {due.count - 1} unanswered nudges. {who}, please post an update in "
        f"<#{facts.channel_id}>."
    )
    return text, [_section(text)]


def _passed(interval: timedelta) -> str:
    if interval == timedelta(days=1):
        return "A day has passed"
    return f"{format_duration(interval.total_seconds())} passed"


def schedule_nudge(facts: Facts, due: Due, interval: timedelta) -> Message:
    """Ask the channel to schedule the postmortem meeting."""
    text = (
        f"{_passed(interval)} without a calendar invite. Someone please schedule the "
        "postmortem meeting (or `/incident schedule YYYY-MM-DD HH:MM`)."
    )
    return text, [_section(text), schedule_button(facts.incident_id)]


def schedule_dm(facts: Facts, due: Due) -> Message:
    """Ask the commander, in a DM, to schedule the postmortem meeting."""
    text = (
        f"{_label(facts)} ({neutralise(facts.title)}) was resolved "
        f"{format_duration(due.silence.total_seconds())} ago and has no postmortem meeting yet. "
        f"Please schedule it for <#{facts.channel_id}>."
    )
    return text, [_section(text), schedule_button(facts.incident_id)]


def reminder(facts: Facts, due: Due, meeting_at: datetime) -> Message:
    """Remind the channel of the upcoming postmortem meeting."""
    text = (
        f":calendar: Reminder: the postmortem meeting for {_label(facts)} starts in "
        f"{format_duration(due.silence.total_seconds())} ({_slack_date(meeting_at)})."
    )
    return text, [_section(text)]


def owner(facts: Facts) -> str | None:
    """Return who owns the postmortem: the commander, else the reporter."""
    return facts.commander_id or facts.reporter_id


def completion_nudge(facts: Facts, due: Due) -> Message:
    """Ask the owner to finish the postmortem, or tell the managers it is overdue."""
    ago = format_duration(due.silence.total_seconds())
    if due.escalate:
        text = (
            f"The postmortem of {_label(facts)} ({neutralise(facts.title)}) is still not "
            f"complete {ago} after resolve, despite {due.count - 1} reminders to "
            f"{_mention(owner(facts))}. Channel: <#{facts.channel_id}>."
        )
    else:
        text = (
            f"The postmortem of {_label(facts)} ({neutralise(facts.title)}) is not complete "
            f"yet ({ago} since resolve). When it is, run `/incident postmortem done` in "
            f"<#{facts.channel_id}>."
        )
    return text, [_section(text)]


def build(facts: Facts, due: Due, *, schedule_interval: timedelta) -> Message:
    """Build the message of one due nudge."""
    if due.kind == rules.UPDATE:
        return update_nudge(facts, due)
    if due.kind == rules.UPDATE_ESCALATION:
        return update_escalation(facts, due)
    if due.kind == rules.SCHEDULE:
        return schedule_nudge(facts, due, schedule_interval)
    if due.kind == rules.SCHEDULE_DM:
        return schedule_dm(facts, due)
    if due.kind == rules.REMINDER:
        assert facts.meeting_at is not None
        return reminder(facts, due, facts.meeting_at)
    return completion_nudge(facts, due)
