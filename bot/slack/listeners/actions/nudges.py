"""Buttons on nudge messages: [Snooze] on an update nudge, [Schedule meeting] on a schedule one."""

from __future__ import annotations

from functools import partial
from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.db import session_scope, utcnow
from bot.deps import Deps
from bot.i18n import _
from bot.incidents import service as incidents
from bot.incidents.domain import incident_label
from bot.nudges.flows import snooze_updates
from bot.nudges.rules import SNOOZE_CHOICES
from bot.settings import parse_duration
from bot.slack.ids import NudgeAction
from bot.slack.listeners.commands.nudges import open_schedule_modal
from bot.slack.listeners.lazy import carry, run_carried
from bot.slack.listeners.payloads import action_channel
from bot.slack.router import Followup, followup
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
    if not snooze_updates(
        channel, user, until=until, now=now, session_factory=deps.session_factory
    ):
        return None
    text = _(
        ":zzz: {user} snoozed update nudges for {duration}.",
        user=mention(user),
        duration=_(SNOOZE_CHOICES[choice]),
    )
    return followup(say, channel_id=channel, text=text)


def say(deps: Deps, *, channel_id: str, text: str) -> None:
    """Post a short public note in a channel (follow-up)."""
    deps.chat.post_message(channel_id, text)


def accept_snooze(ack: Ack, body: dict[str, Any], context: BoltContext, *, deps: Deps) -> None:
    """Ack [Snooze]: store the snooze, and announce it after the ack."""
    carry(context, snooze(body, deps))
    ack()


def accept_schedule_button(
    ack: Ack, body: dict[str, Any], context: BoltContext, *, deps: Deps
) -> None:
    """Ack [Schedule meeting]; the meeting form opens after the ack."""
    value = body["actions"][0].get("value") or ""
    incident_id = int(value) if value.isdigit() and len(value) < 10 else 0  # not ours: 0
    trigger_id, user_id = body["trigger_id"], body["user"]["id"]
    with session_scope(deps.session_factory) as session:
        incident = incidents.get(incident_id, session=session)
        if incident is not None and incident.channel_id is not None:
            carry(
                context,
                followup(
                    open_schedule_modal,
                    incident_id=incident_id,
                    label=incident_label(incident.number),
                    trigger_id=trigger_id,
                    user_id=user_id,
                    channel_id=incident.channel_id,
                ),
            )
    ack()


def register(app: App, deps: Deps) -> None:
    """Register the [Snooze] select and the [Schedule meeting] button."""
    app.action(NudgeAction.SNOOZE)(
        ack=partial(accept_snooze, deps=deps), lazy=[partial(run_carried, deps=deps)]
    )
    app.action(NudgeAction.SCHEDULE_MEETING)(
        ack=partial(accept_schedule_button, deps=deps), lazy=[partial(run_carried, deps=deps)]
    )
