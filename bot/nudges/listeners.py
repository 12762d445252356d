"""Bolt listeners of nudge messages: [Snooze], [Schedule meeting] and the meeting modal."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.db import session_scope, utcnow
from bot.deps import Deps
from bot.i18n import _
from bot.incidents import service as incidents
from bot.incidents.domain import InvalidInput
from bot.nudges import meetings, service
from bot.nudges.commands import parse_meeting_duration
from bot.nudges.modal import metadata_incident_id, submitted
from bot.nudges.rules import SNOOZE_CHOICES
from bot.settings import parse_duration
from bot.slack.ids import NudgeAction, NudgeBlock, NudgeCallback
from bot.slack.listeners.lazy import FOLLOWUP_KEY, run_followup
from bot.slack.listeners.payloads import action_channel
from bot.slack.router import Followup
from bot.text import mention


def snooze(body: dict[str, Any], deps: Deps) -> Followup | None:
    """Store a snooze chosen on an update nudge; return the follow-up that announces it."""
    action = body["actions"][0]
    choice = (action.get("selected_option") or {}).get("value", "")
    if choice not in SNOOZE_CHOICES:
        return None
    channel, user = action_channel(body), body["user"]["id"]
    now = utcnow()
    until = now + parse_duration(choice)
    with session_scope(deps.session_factory) as session:
        incident_id = incidents.incident_id_for_channel(channel, session=session)
        if incident_id is None:
            return None
        service.snooze(incident_id, session=session, until=until, by=user, now=now)
    text = _(
        ":zzz: {user} snoozed update nudges for {duration}.",
        user=mention(user),
        duration=_(SNOOZE_CHOICES[choice]),
    )
    return Followup("nudges_say", {"channel_id": channel, "text": text})


def accept_meeting(
    view: dict[str, Any], user_id: str, deps: Deps
) -> tuple[dict[str, str], Followup | None]:
    """Validate and record the modal's meeting; return input errors or the announcement."""
    values = submitted(view)
    incident_id = metadata_incident_id(values["meta"])
    if incident_id is None:
        return {
            NudgeBlock.DATE: "This form has lost track of its incident's meeting; "
            "run `/incident schedule` again."
        }, None
    errors: dict[str, str] = {}
    try:
        meetings.zone(values["timezone"])
    except InvalidInput as exc:
        errors[NudgeBlock.TIMEZONE] = str(exc)
    try:
        duration = parse_meeting_duration(values["duration"])
    except InvalidInput as exc:
        errors[NudgeBlock.DURATION] = str(exc)
    if not values["date"] or not values["time"]:
        errors[NudgeBlock.DATE] = _("Pick a date and a time.")
    if errors:
        return errors, None
    try:
        local = datetime.strptime(f"{values['date']} {values['time']}", "%Y-%m-%d %H:%M")
    except ValueError:
        return {NudgeBlock.DATE: "That is not a real date and time."}, None
    try:
        starts_at = meetings.start_time(local, values["timezone"].strip(), utcnow())
    except InvalidInput as exc:
        return {NudgeBlock.DATE: str(exc)}, None
    keys = meetings.record_meeting(
        incident_id,
        starts_at,
        timezone=values["timezone"].strip(),
        duration=duration,
        attendees=list(values["attendees"]),
        user_id=user_id,
        session_factory=deps.session_factory,
    )
    return {}, Followup("nudges_deliver", {"keys": keys})


def register(app: App, deps: Deps) -> None:
    """Register the nudge buttons and the meeting modal on the Bolt app."""

    def carry(context: BoltContext, followup: Followup | None) -> None:
        if followup is not None:
            context[FOLLOWUP_KEY] = followup

    def follow_up(context: BoltContext) -> None:
        run_followup(context.get(FOLLOWUP_KEY), deps, cause=context)

    def accept_snooze(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        carry(context, snooze(body, deps))
        ack()

    def accept_schedule_button(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        value = body["actions"][0].get("value") or ""
        incident_id = int(value) if value.isdigit() and len(value) < 10 else 0  # not ours: 0
        with session_scope(deps.session_factory) as session:
            incident = incidents.get(incident_id, session=session)
            found = incident is not None and incident.channel_id is not None
            args = {
                "incident_id": incident_id,
                "label": f"INC-{incident.number}" if incident else "",
                "trigger_id": body["trigger_id"],
                "user_id": body["user"]["id"],
                "channel_id": incident.channel_id if incident else "",
            }
        if found:
            carry(context, Followup("nudges_open_schedule_modal", args))
        ack()

    def accept_modal(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        errors, followup = accept_meeting(body["view"], body["user"]["id"], deps)
        if errors:
            ack(response_action="errors", errors=errors)
            return
        carry(context, followup)
        ack()

    app.action(NudgeAction.SNOOZE)(ack=accept_snooze, lazy=[follow_up])
    app.action(NudgeAction.SCHEDULE_MEETING)(ack=accept_schedule_button, lazy=[follow_up])
    app.view(NudgeCallback.SCHEDULE)(ack=accept_modal, lazy=[follow_up])


def say(deps: Deps, *, channel_id: str, text: str) -> None:
    """Post a short public note in a channel (follow-up)."""
    deps.chat.post_message(channel_id, text)
