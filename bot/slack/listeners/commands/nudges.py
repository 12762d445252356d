"""/incident schedule: schedule, move or cancel the postmortem meeting, or open its form."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.db import utcnow
from bot.deps import Deps
from bot.i18n import N_, _, for_reader
from bot.incidents.domain import InvalidInput
from bot.incidents.flows import find_channel_incident
from bot.nudges import meetings
from bot.slack.blocks.nudges import schedule_modal
from bot.slack.listeners.lazy import deliver
from bot.slack.router import CommandInput, CommandRouter, Outcome, followup


def accept_schedule(cmd: CommandInput, deps: Deps) -> Outcome:
    """Validate /incident schedule quickly; the profile lookup and posting come after the ack."""
    incident = find_channel_incident(cmd.channel_id, session_factory=deps.session_factory)
    incident_id, label = incident.id, incident.label
    if cmd.args.lower() == "cancel":
        _incident_id, keys = meetings.cancel_meeting(
            cmd.channel_id,
            cmd.user_id,
            session_factory=deps.session_factory,
            settings=deps.settings,
        )
        return Outcome(followup=followup(deliver, keys=keys))
    if not cmd.args:
        return Outcome(
            followup=followup(
                open_schedule_modal,
                incident_id=incident_id,
                label=label,
                trigger_id=cmd.trigger_id,
                user_id=cmd.user_id,
                channel_id=cmd.channel_id,
            )
        )
    slot = meetings.parse_when(cmd.args)
    if slot.timezone:
        meetings.start_time(slot.local, slot.timezone, utcnow())
    return Outcome(
        reply=_("Scheduling the postmortem meeting of {label}…", label=label),
        followup=followup(
            schedule_from_command,
            incident_id=incident_id,
            local=slot.local.isoformat(),
            timezone=slot.timezone,
            user_id=cmd.user_id,
            channel_id=cmd.channel_id,
        ),
    )


def schedule_from_command(
    deps: Deps,
    *,
    incident_id: int,
    local: str,
    timezone: str | None,
    user_id: str,
    channel_id: str,
) -> None:
    """Record the meeting typed in the command, in the asker's timezone unless one was given."""
    tz = timezone or meetings.user_timezone(deps.chat, user_id, deps.settings)
    try:
        with for_reader():  # the error goes to the person who asked
            starts_at = meetings.start_time(datetime.fromisoformat(local), tz, utcnow())
    except InvalidInput as exc:
        deps.chat.post_ephemeral(channel_id, user_id, str(exc))  # built in the reader's language
        return
    keys = meetings.record_meeting(
        incident_id,
        starts_at,
        timezone=tz,
        duration=deps.settings.meeting_default_duration,
        attendees=meetings.channel_attendees(deps.chat, channel_id),
        user_id=user_id,
        session_factory=deps.session_factory,
    )
    deps.outbox.deliver(keys)


def open_schedule_modal(
    deps: Deps, *, incident_id: int, label: str, trigger_id: str, user_id: str, channel_id: str
) -> None:
    """Open the meeting form: tomorrow, in the asker's timezone, inviting the channel."""
    tz = meetings.user_timezone(deps.chat, user_id, deps.settings)
    members = meetings.channel_attendees(deps.chat, channel_id)
    tomorrow = utcnow().astimezone(meetings.zone(tz)) + timedelta(days=1)
    with for_reader():  # the modal is seen by the person who asked for it
        view = schedule_modal(
            incident_id=incident_id,
            channel_id=channel_id,
            label=label,
            day=tomorrow,
            timezone=tz,
            duration=deps.settings.meeting_default_duration,
            attendees=members,
        )
    deps.chat.open_view(trigger_id, view)


def register(router: CommandRouter) -> None:
    """Register /incident schedule."""
    router.subcommand(
        "schedule",
        usage="/incident schedule <YYYY-MM-DD HH:MM> [timezone] | cancel",
        summary=N_("schedule, move or cancel the postmortem meeting (no date: open the form)"),
    )(accept_schedule)
