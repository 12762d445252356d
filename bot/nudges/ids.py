"""Slack identifiers of the nudges feature (action, block and callback ids)."""

from __future__ import annotations

from enum import StrEnum

from bot.i18n import N_


class NudgeAction(StrEnum):
    """Buttons, selects and inputs of nudge messages and the meeting modal."""

    SNOOZE = "nudges_snooze"
    SCHEDULE_MEETING = "nudges_schedule_meeting"
    DATE = "nudges_meeting_date"
    TIME = "nudges_meeting_time"
    TIMEZONE = "nudges_meeting_timezone"
    DURATION = "nudges_meeting_duration"
    ATTENDEES = "nudges_meeting_attendees"


class NudgeBlock(StrEnum):
    """Block ids of nudge messages and the meeting modal inputs."""

    ACTIONS = "nudges_actions"
    DATE = "nudges_meeting_date_block"
    TIME = "nudges_meeting_time_block"
    TIMEZONE = "nudges_meeting_timezone_block"
    DURATION = "nudges_meeting_duration_block"
    ATTENDEES = "nudges_meeting_attendees_block"


class NudgeCallback(StrEnum):
    """Modal callback ids."""

    SCHEDULE = "nudges_schedule_meeting_modal"


# Labels are translated where they are shown (bot.i18n._).
SNOOZE_CHOICES = {"30m": N_("30 minutes"), "1h": N_("1 hour"), "2h": N_("2 hours")}
