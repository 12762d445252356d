"""/incident schedule and /incident postmortem done, and the follow-ups they leave."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from bot.db import session_scope, utcnow
from bot.deps import Deps
from bot.i18n import N_, _, for_reader, public_
from bot.incidents.announce import event_row
from bot.incidents.domain import InvalidInput
from bot.incidents.flows import channel_incident
from bot.nudges import meetings
from bot.nudges.modal import schedule_modal
from bot.outbox import service as outbox
from bot.outbox.service import Outgoing
from bot.postmortems import service as postmortems
from bot.postmortems.events import PostmortemCompleted
from bot.slack.router import CommandInput, CommandRouter, Followup, Outcome, Subcommand
from bot.text import mention

_DURATION_PART = re.compile(r"(\d+)\s*([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
POSTMORTEM_USAGE = "/incident postmortem done"


POSTMORTEM_COMPLETE_POST = "postmortem_complete"


def parse_meeting_duration(text: str) -> timedelta:
    """Parse '45m', '1h', '1h30m' or '1h 30m' into a duration of 1 minute to 1 day."""
    cleaned = text.strip().lower()
    parts = _DURATION_PART.findall(cleaned)
    if not parts or _DURATION_PART.sub("", cleaned).strip():
        raise InvalidInput(
            _("`{text}` is not a duration; write it like `45m`, `1h` or `1h30m`.", text=text)
        )
    seconds = sum(int(n) * _UNITS[u] for n, u in parts)
    if not 60 <= seconds <= 86400:
        raise InvalidInput(_("A meeting lasts between 1 minute and 1 day."))
    return timedelta(seconds=seconds)


def accept_schedule(cmd: CommandInput, deps: Deps) -> Outcome:
    """Validate /incident schedule quickly; the profile lookup and posting come after the ack."""
    with session_scope(deps.session_factory) as session:
        incident = channel_incident(cmd.channel_id, session=session)
        incident_id, label = incident.id, f"INC-{incident.number}"
    if cmd.args.lower() == "cancel":
        _incident_id, keys = meetings.cancel_meeting(
            cmd.channel_id,
            cmd.user_id,
            session_factory=deps.session_factory,
            settings=deps.settings,
        )
        return Outcome(followup=Followup("nudges_deliver", {"keys": keys}))
    if not cmd.args:
        args = {"incident_id": incident_id, "label": label}
        return Outcome(
            followup=Followup(
                "nudges_open_schedule_modal",
                {
                    **args,
                    "trigger_id": cmd.trigger_id,
                    "user_id": cmd.user_id,
                    "channel_id": cmd.channel_id,
                },
            )
        )
    slot = meetings.parse_when(cmd.args)
    if slot.timezone:
        meetings.start_time(slot.local, slot.timezone, utcnow())
    return Outcome(
        reply=_("Scheduling the postmortem meeting of {label}…", label=label),
        followup=Followup(
            "nudges_schedule_from_command",
            {
                "incident_id": incident_id,
                "local": slot.local.isoformat(),
                "timezone": slot.timezone,
                "user_id": cmd.user_id,
                "channel_id": cmd.channel_id,
            },
        ),
    )


def accept_postmortem(cmd: CommandInput, deps: Deps, fallback: Subcommand | None) -> Outcome:
    """Handle `done`; anything else goes to the postmortem feature (export) if it is installed."""
    if cmd.args.strip().lower() != "done":
        if fallback is not None:
            return fallback.accept(cmd, deps)
        with session_scope(deps.session_factory) as session:
            incident = channel_incident(cmd.channel_id, session=session)
            incident_id = incident.id
        if "postmortem_export" in deps.router.followups:
            return Outcome(
                reply=_("Creating the postmortem document…"),
                followup=Followup(
                    "postmortem_export",
                    {
                        "incident_id": incident_id,
                        "user_id": cmd.user_id,
                        "channel_id": cmd.channel_id,
                    },
                ),
            )
        raise InvalidInput(
            _("Usage: `{usage}` marks the postmortem complete.", usage=POSTMORTEM_USAGE)
        )
    with session_scope(deps.session_factory) as session:
        incident = channel_incident(cmd.channel_id, session=session)
        incident_id, label = incident.id, f"INC-{incident.number}"
        existing = postmortems.get(incident_id, session=session)
        if existing is not None and existing.status == "Complete":
            raise InvalidInput(_("The postmortem of {label} is already complete.", label=label))
        postmortems.mark_complete(incident_id, session=session, source="slack")
        done = f"{incident_id}:postmortem-complete"
        keys = outbox.enqueue(
            [
                Outgoing(
                    key=done,
                    kind=POSTMORTEM_COMPLETE_POST,
                    target=cmd.channel_id,
                    text=public_(
                        ":white_check_mark: {user} marked the postmortem complete.",
                        user=mention(cmd.user_id),
                    ),
                    incident_id=incident_id,
                ),
                event_row(f"{done}:event", incident_id, PostmortemCompleted(incident_id)),
            ],
            session=session,
        )
    return Outcome(followup=Followup("nudges_deliver", {"keys": keys}))


def register(router: CommandRouter) -> None:
    """Register the subcommands (wrapping an existing `postmortem` one) and follow-ups."""
    router.subcommand(
        "schedule",
        usage="/incident schedule <YYYY-MM-DD HH:MM> [timezone] | cancel",
        summary=N_("schedule, move or cancel the postmortem meeting (no date: open the form)"),
    )(accept_schedule)
    existing = router.subcommands.get("postmortem")
    if existing is not None:
        fallback = Subcommand(existing.name, existing.accept, existing.usage, existing.summary)
        existing.accept = lambda cmd, deps: accept_postmortem(cmd, deps, fallback)
        existing.usage = f"{existing.usage} | done"
    else:
        router.subcommand(
            "postmortem",
            usage="/incident postmortem [done]",
            summary=N_("create the postmortem document; `done` marks it complete"),
        )(lambda cmd, deps: accept_postmortem(cmd, deps, None))

    @router.followup("nudges_schedule_from_command")
    def schedule_from_command(
        deps: Deps,
        *,
        incident_id: int,
        local: str,
        timezone: str | None,
        user_id: str,
        channel_id: str,
    ) -> None:
        tz = timezone or meetings.user_timezone(deps.chat, user_id, deps.settings)
        try:
            with for_reader():  # the error goes to the person who asked
                starts_at = meetings.start_time(datetime.fromisoformat(local), tz, utcnow())
        except InvalidInput as exc:
            deps.chat.post_ephemeral(
                channel_id, user_id, str(exc)
            )  # built in the reader's language
            return
        members = [m for m in deps.chat.channel_members(channel_id) if m != deps.chat.bot_user_id()]
        keys = meetings.record_meeting(
            incident_id,
            starts_at,
            timezone=tz,
            duration=deps.settings.meeting_default_duration,
            attendees=members,
            user_id=user_id,
            session_factory=deps.session_factory,
        )
        deps.outbox.deliver(keys)

    @router.followup("nudges_deliver")
    def deliver(deps: Deps, *, keys: list[str]) -> None:
        deps.outbox.deliver(keys)

    @router.followup("nudges_open_schedule_modal")
    def open_schedule_modal(
        deps: Deps, *, incident_id: int, label: str, trigger_id: str, user_id: str, channel_id: str
    ) -> None:
        tz = meetings.user_timezone(deps.chat, user_id, deps.settings)
        bot = deps.chat.bot_user_id()
        members = [m for m in deps.chat.channel_members(channel_id) if m != bot]
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
