"""Every Slack identifier the bot uses (callback, block and action ids), in one place."""

from __future__ import annotations

from enum import StrEnum


class Callback(StrEnum):
    """Modal callback ids."""

    DECLARE = "incident_declare"
    UPDATE = "incident_update"
    SEVERITY = "incident_severity"
    RESOLVE = "incident_resolve"
    SCHEDULE = "postmortem_schedule"


class Action(StrEnum):
    """Button and input action ids."""

    POST_UPDATE = "incident_post_update"
    CHANGE_SEVERITY = "incident_change_severity"
    RESOLVE = "incident_resolve"
    SNOOZE = "nudge_snooze"
    SCHEDULE_MEETING = "postmortem_schedule_meeting"
    DECLARE_FROM_PAGERDUTY = "pagerduty_declare"
    INVITE_ONCALL = "pagerduty_invite_oncall"
    TITLE = "title"
    SEVERITY = "severity"
    DESCRIPTION = "description"
    COMMANDER = "commander"
    INVITEES = "invitees"
    INCIDENT_TYPE = "incident_type"
    PRIVATE = "private"
    TEXT = "text"
    STATUS = "status"
    SUMMARY = "summary"
    MEETING_DATE = "meeting_date"
    MEETING_TIME = "meeting_time"
    MEETING_TIMEZONE = "meeting_timezone"
    MEETING_DURATION = "meeting_duration"
    MEETING_ATTENDEES = "meeting_attendees"


class Block(StrEnum):
    """Input block ids (a modal's state is keyed by block id, then action id)."""

    TITLE = "title_block"
    SEVERITY = "severity_block"
    DESCRIPTION = "description_block"
    COMMANDER = "commander_block"
    INVITEES = "invitees_block"
    INCIDENT_TYPE = "incident_type_block"
    PRIVATE = "private_block"
    TEXT = "text_block"
    STATUS = "status_block"
    SUMMARY = "summary_block"
    ACTIONS = "incident_actions"
    MEETING_DATE = "meeting_date_block"
    MEETING_TIME = "meeting_time_block"
    MEETING_TIMEZONE = "meeting_timezone_block"
    MEETING_DURATION = "meeting_duration_block"
    MEETING_ATTENDEES = "meeting_attendees_block"
