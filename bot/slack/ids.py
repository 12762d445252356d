"""Every Slack identifier the bot uses (callback, block and action ids), in one place.

Block Kit builders (bot/slack/blocks/) put these in payloads; listeners (bot/slack/listeners/)
register on them or read them. One enum per feature and kind:

- `*Action`: buttons and selects on messages; Slack sends a click as block_actions, and a
  listener in bot/slack/listeners/actions/<feature>.py answers it.
- `*Input`: the action ids of a modal's inputs; the modal's view listener reads them from the
  submitted state (bot/slack/listeners/views/<feature>.py).
- `*Block`: block ids: a modal's input blocks (state is keyed by block id, then action id) and
  the actions rows of messages.
- `*Callback`: modal callback ids; bot/slack/listeners/views/<feature>.py handles each.

tests/slack/test_ids.py proves that every id in a payload the bot sends is declared here, that
each one declared is sent, and that each one is handled.
"""

from __future__ import annotations

from enum import StrEnum


class IncidentCallback(StrEnum):
    """The incident modals."""

    DECLARE = "incident_declare"
    UPDATE = "incident_update"
    SEVERITY = "incident_severity"
    RESOLVE = "incident_resolve"


class IncidentAction(StrEnum):
    """The buttons on an incident's kickoff message."""

    POST_UPDATE = "incident_post_update"
    CHANGE_SEVERITY = "incident_change_severity"
    RESOLVE = "incident_resolve"


class IncidentInput(StrEnum):
    """The inputs of the incident modals."""

    TITLE = "title"
    SEVERITY = "severity"
    DESCRIPTION = "description"
    COMMANDER = "commander"
    INVITEES = "invitees"
    INCIDENT_TYPE = "incident_type"
    PRIVATE = "private"
    TEXT = "text"
    SUMMARY = "summary"


class IncidentBlock(StrEnum):
    """The incident modals' input blocks, and the kickoff's row of buttons."""

    TITLE = "title_block"
    SEVERITY = "severity_block"
    DESCRIPTION = "description_block"
    COMMANDER = "commander_block"
    INVITEES = "invitees_block"
    INCIDENT_TYPE = "incident_type_block"
    PRIVATE = "private_block"
    TEXT = "text_block"
    SUMMARY = "summary_block"
    ACTIONS = "incident_actions"


class NudgeCallback(StrEnum):
    """The postmortem meeting modal."""

    SCHEDULE = "nudges_schedule_meeting_modal"


class NudgeAction(StrEnum):
    """The snooze select and the schedule button on nudges."""

    SNOOZE = "nudges_snooze"
    SCHEDULE_MEETING = "nudges_schedule_meeting"


class NudgeInput(StrEnum):
    """The inputs of the meeting modal."""

    DATE = "nudges_meeting_date"
    TIME = "nudges_meeting_time"
    TIMEZONE = "nudges_meeting_timezone"
    DURATION = "nudges_meeting_duration"
    ATTENDEES = "nudges_meeting_attendees"


class NudgeBlock(StrEnum):
    """The meeting modal's input blocks, and the nudges' row of buttons."""

    ACTIONS = "nudges_actions"
    DATE = "nudges_meeting_date_block"
    TIME = "nudges_meeting_time_block"
    TIMEZONE = "nudges_meeting_timezone_block"
    DURATION = "nudges_meeting_duration_block"
    ATTENDEES = "nudges_meeting_attendees_block"


class PagerDutyAction(StrEnum):
    """The buttons on PagerDuty event posts."""

    DECLARE = "pagerduty_declare_incident"
    INVITE_ONCALL = "pagerduty_invite_oncall_users"


class FollowUpCallback(StrEnum):
    """The Add follow-up modal."""

    ADD = "followups_add_modal"


class FollowUpAction(StrEnum):
    """The buttons on a follow-up, and the [Add follow-up] button."""

    DONE = "followups_done"
    WONT_DO = "followups_wont_do"
    SNOOZE = "followups_snooze_week"
    ADD = "followups_add"


class FollowUpInput(StrEnum):
    """The inputs of the Add follow-up modal."""

    TEXT = "followups_text"
    OWNER = "followups_owner"
    DUE = "followups_due"


class FollowUpBlock(StrEnum):
    """The Add follow-up modal's input blocks."""

    TEXT = "followups_text_block"
    OWNER = "followups_owner_block"
    DUE = "followups_due_block"


# A follow-up's own block ("followups_item_<id>") carries its buttons; the [Add follow-up]
# button's block is "followups_add_<incident id>".
FOLLOWUP_ITEM_BLOCK_PREFIX = "followups_item_"
FOLLOWUP_ADD_BLOCK_PREFIX = "followups_add_"
