"""Every Slack identifier the bot uses (callback, block and action ids), in one place.

Block Kit builders (bot/slack/blocks/) put these in payloads; listeners (bot/slack/listeners/)
register on them. tests/slack/test_ids.py proves each one is used and handled, and that no
payload carries an id that is not declared here. One enum per feature and kind.
"""

from __future__ import annotations

from enum import StrEnum


class Callback(StrEnum):
    """Callback ids of the incident modals."""

    DECLARE = "incident_declare"
    UPDATE = "incident_update"
    SEVERITY = "incident_severity"
    RESOLVE = "incident_resolve"


class Action(StrEnum):
    """Action ids of the incident buttons and modal inputs."""

    POST_UPDATE = "incident_post_update"
    CHANGE_SEVERITY = "incident_change_severity"
    RESOLVE = "incident_resolve"
    TITLE = "title"
    SEVERITY = "severity"
    DESCRIPTION = "description"
    COMMANDER = "commander"
    INVITEES = "invitees"
    INCIDENT_TYPE = "incident_type"
    PRIVATE = "private"
    TEXT = "text"
    SUMMARY = "summary"


class Block(StrEnum):
    """Block ids of the incident modals (a modal's state is keyed by block id, then action id)."""

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


class PagerDutyAction(StrEnum):
    """Buttons on PagerDuty event posts."""

    DECLARE = "pagerduty_declare_incident"
    INVITE_ONCALL = "pagerduty_invite_oncall_users"


class FollowUpAction(StrEnum):
    """Buttons on follow-ups, the [Add follow-up] button and the modal's inputs."""

    DONE = "followups_done"
    WONT_DO = "followups_wont_do"
    SNOOZE = "followups_snooze_week"
    ADD = "followups_add"
    TEXT = "followups_text"
    OWNER = "followups_owner"
    DUE = "followups_due"


class FollowUpBlock(StrEnum):
    """Block ids of the Add follow-up modal."""

    TEXT = "followups_text_block"
    OWNER = "followups_owner_block"
    DUE = "followups_due_block"


class FollowUpCallback(StrEnum):
    """Modal callback ids."""

    ADD = "followups_add_modal"


# A follow-up's own block ("followups_item_<id>") carries its buttons; the Add button's block
# is "followups_add_<incident id>".
FOLLOWUP_ITEM_BLOCK_PREFIX = "followups_item_"
FOLLOWUP_ADD_BLOCK_PREFIX = "followups_add_"
