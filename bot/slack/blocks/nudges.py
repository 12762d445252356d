"""Pure Block Kit builders of the nudge messages and the Schedule meeting modal."""

from __future__ import annotations

import copy
import functools
import json
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    DatePickerElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
    TimePickerElement,
    UserMultiSelectElement,
)
from slack_sdk.models.views import View

from bot.i18n import _, current_language
from bot.incidents.domain import incident_label
from bot.nudges import rules
from bot.nudges.rules import SNOOZE_CHOICES, Due, Facts
from bot.slack.ids import IncidentAction, NudgeAction, NudgeBlock, NudgeCallback, NudgeInput
from bot.text import duration_value, format_duration, mention, neutralise

Message = tuple[str, list[dict[str, Any]]]


def _mention(user_id: str | None) -> str:
    return mention(user_id) if user_id else _("Someone")


def _label(facts: Facts) -> str:
    return incident_label(facts.number)


def _slack_date(at: datetime) -> str:
    fallback = at.strftime("%Y-%m-%d %H:%M UTC")
    tokens = _("{date_short_pretty} at {time}")  # Slack fills these in, not format()
    return f"<!date^{int(at.timestamp())}^{tokens}|{fallback}>"


def _section(text: str) -> dict[str, Any]:
    # A plain dict: the SDK model's validation costs milliseconds per nudge.
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


@functools.cache
def _update_actions(language: str) -> dict[str, Any]:
    snooze = StaticSelectElement(
        action_id=NudgeAction.SNOOZE,
        placeholder=_("Snooze"),
        options=[Option(text=_(label), value=value) for value, label in SNOOZE_CHOICES.items()],
    )
    post = ButtonElement(
        text=_("Post update"), action_id=IncidentAction.POST_UPDATE, style="primary"
    )
    return ActionsBlock(block_id=NudgeBlock.ACTIONS, elements=[post, snooze]).to_dict()


def update_actions() -> dict[str, Any]:
    """Build the [Post update] button and the [Snooze] select of an update nudge."""
    return copy.deepcopy(_update_actions(current_language()))


def schedule_button(incident_id: int) -> dict[str, Any]:
    """Build the [Schedule meeting] button."""
    button = ButtonElement(
        text=_("Schedule meeting"),
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
        text = _(
            ":rotating_light: No messages for {silent}, and {count} nudges went unanswered. "
            "{who}, please post an update.",
            silent=silent,
            count=due.count - 1,
            who=who,
        )
    elif facts.commander_id:
        text = _(
            "No messages for {silent}. {who}, someone please post an update.",
            silent=silent,
            who=who,
        )
    else:
        text = _("No messages for {silent}. Someone please post an update.", silent=silent)
    return text, [_section(text), update_actions()]


def update_escalation(facts: Facts, due: Due) -> Message:
    """Note in the announcement thread that the incident channel has gone quiet."""
    comms = facts.comms_id or facts.commander_id
    who = " ".join(dict.fromkeys([_mention(facts.commander_id), _mention(comms)]))
    text = _(
        "{label} has had no messages for {silent} after {count} unanswered nudges. "
        "{who}, please post an update in {channel}.",
        label=_label(facts),
        silent=format_duration(due.silence.total_seconds()),
        count=due.count - 1,
        who=who,
        channel=f"<#{facts.channel_id}>",
    )
    return text, [_section(text)]


def _passed(interval: timedelta) -> str:
    if interval == timedelta(days=1):
        return _("A day has passed without a calendar invite.")
    return _(
        "{duration} passed without a calendar invite.",
        duration=format_duration(interval.total_seconds()),
    )


def schedule_nudge(facts: Facts, due: Due, interval: timedelta) -> Message:
    """Ask the channel to schedule the postmortem meeting."""
    text = (
        _passed(interval)
        + " "
        + _(
            "Someone please schedule the postmortem meeting "
            "(or `/incident schedule YYYY-MM-DD HH:MM`)."
        )
    )
    return text, [_section(text), schedule_button(facts.incident_id)]


def schedule_dm(facts: Facts, due: Due) -> Message:
    """Ask the commander, in a DM, to schedule the postmortem meeting."""
    text = _(
        "{label} ({title}) was resolved {ago} ago and has no postmortem meeting yet. "
        "Please schedule it for {channel}.",
        label=_label(facts),
        title=neutralise(facts.title),
        ago=format_duration(due.silence.total_seconds()),
        channel=f"<#{facts.channel_id}>",
    )
    return text, [_section(text), schedule_button(facts.incident_id)]


def reminder(facts: Facts, due: Due, meeting_at: datetime) -> Message:
    """Remind the channel of the upcoming postmortem meeting."""
    text = _(
        ":calendar: Reminder: the postmortem meeting for {label} starts in {duration} ({date}).",
        label=_label(facts),
        duration=format_duration(due.silence.total_seconds()),
        date=_slack_date(meeting_at),
    )
    return text, [_section(text)]


def completion_nudge(facts: Facts, due: Due) -> Message:
    """Ask the owner to finish the postmortem, or tell the managers it is overdue."""
    ago = format_duration(due.silence.total_seconds())
    if due.escalate:
        text = _(
            "The postmortem of {label} ({title}) is still not complete {ago} after resolve, "
            "despite {count} reminders to {owner}. Channel: {channel}.",
            label=_label(facts),
            title=neutralise(facts.title),
            ago=ago,
            count=due.count - 1,
            owner=_mention(facts.postmortem_owner),
            channel=f"<#{facts.channel_id}>",
        )
    else:
        text = _(
            "The postmortem of {label} ({title}) is not complete yet ({ago} since resolve). "
            "When it is, run `/incident postmortem done` in {channel}.",
            label=_label(facts),
            title=neutralise(facts.title),
            ago=ago,
            channel=f"<#{facts.channel_id}>",
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


def schedule_modal(
    *,
    incident_id: int,
    channel_id: str,
    label: str,
    day: datetime,
    timezone: str,
    duration: timedelta,
    attendees: list[str],
) -> dict[str, Any]:
    """Build the modal: date, time, timezone (from the user's profile), duration, attendees."""
    blocks = [
        InputBlock(
            block_id=NudgeBlock.DATE,
            label=_("Date"),
            element=DatePickerElement(action_id=NudgeInput.DATE, initial_date=f"{day:%Y-%m-%d}"),
        ),
        InputBlock(
            block_id=NudgeBlock.TIME,
            label=_("Time"),
            element=TimePickerElement(action_id=NudgeInput.TIME, initial_time="10:00"),
        ),
        InputBlock(
            block_id=NudgeBlock.TIMEZONE,
            label=_("Timezone (IANA name)"),
            element=PlainTextInputElement(action_id=NudgeInput.TIMEZONE, initial_value=timezone),
        ),
        InputBlock(
            block_id=NudgeBlock.DURATION,
            label=_("Duration (e.g. 45m, 1h)"),
            element=PlainTextInputElement(
                action_id=NudgeInput.DURATION,
                initial_value=duration_value(duration.total_seconds()).replace(" ", ""),
            ),
        ),
        InputBlock(
            block_id=NudgeBlock.ATTENDEES,
            label=_("Attendees"),
            optional=True,
            element=UserMultiSelectElement(
                action_id=NudgeInput.ATTENDEES, initial_users=attendees[:100] or None
            ),
        ),
    ]
    view = View(
        type="modal",
        callback_id=NudgeCallback.SCHEDULE,
        title=_("Postmortem meeting"),
        submit=_("Schedule"),
        close=_("Cancel"),
        blocks=blocks,
        private_metadata=json.dumps(
            {"incident_id": incident_id, "channel_id": channel_id, "label": label}
        ),
    )
    return view.to_dict()
