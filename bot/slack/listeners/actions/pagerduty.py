"""Buttons on PagerDuty posts: [Declare incident] on an offer, [Invite] on the on-call list.

Registered whether or not PagerDuty is configured: a Declare click without it is told so.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any

from slack_bolt import App

from bot.db import session_scope
from bot.deps import Deps
from bot.i18n import _, for_reader, public_
from bot.incidents import service as incidents
from bot.incidents.domain import incident_label
from bot.integrations.ports import IntegrationError
from bot.pagerduty import flows
from bot.pagerduty import service as pd_service
from bot.pagerduty.domain import incident_ref
from bot.slack.blocks.modals import declare_modal
from bot.slack.ids import PagerDutyAction
from bot.slack.listeners.lazy import just_ack
from bot.slack.listeners.payloads import action_channel
from bot.text import UNKNOWN_USER, mention


def open_declare(body: dict[str, Any], *, deps: Deps) -> None:
    """Open the Declare form for a PagerDuty incident, unless it is already declared."""
    action = body["actions"][0]
    user_id, channel = body["user"]["id"], action_channel(body)
    if deps.pagerduty is None:  # the link would be dropped: say why instead of declaring
        with for_reader():
            text = _(flows.NOT_CONFIGURED)
        deps.chat.post_ephemeral(channel, user_id, text)
        return
    try:
        value = json.loads(action.get("value") or "{}")
        pd_id = incident_ref(str(value["pd_incident_id"]))
    except (ValueError, KeyError, TypeError):
        with for_reader():
            text = _("This Declare button is broken, sorry.")
        deps.chat.post_ephemeral(channel, user_id, text)
        return
    with session_scope(deps.session_factory) as session:
        linked = pd_service.incident_for_pd(pd_id, session=session)
        incident = incidents.get(linked, session=session) if linked else None
        number = incident.number if incident else None
    if number is not None:
        with for_reader():
            text = _("This PagerDuty incident is already {label}.", label=incident_label(number))
        deps.chat.post_ephemeral(channel, user_id, text)
        return
    severity = value.get("severity")
    if severity not in deps.settings.severity_names:
        severity = deps.settings.default_severity
    with for_reader():  # the form is for the person who clicked
        view = declare_modal(
            severities=deps.settings.severity_names,
            severity=severity,
            reporter_id=user_id,
            title=str(value.get("title") or ""),
            description=str(value.get("url") or ""),
            title_max_length=deps.settings.title_max_length,
            metadata={"channel_id": channel, "links": {"pagerduty": pd_id}},
        )
    try:
        deps.chat.open_view(body["trigger_id"], view)
    except IntegrationError as exc:
        with for_reader():
            text = _("Could not open the form: {problem}", problem=exc)
        deps.chat.post_ephemeral(channel, user_id, text)


def invite_oncall(body: dict[str, Any], *, deps: Deps) -> None:
    """Invite the on-call people listed on the button into the channel (Slack only)."""
    action = body["actions"][0]
    user_id, channel = body["user"]["id"], action_channel(body)
    ids = [u for u in (action.get("value") or "").split(",") if mention(u) != UNKNOWN_USER]
    try:
        deps.chat.invite(channel, ids)
    except IntegrationError as exc:
        with for_reader():
            text = _("Could not invite them: {problem}", problem=exc)
        deps.chat.post_ephemeral(channel, user_id, text)
        return
    mentions = ", ".join(mention(u) for u in ids)
    deps.chat.post_message(
        channel,
        public_("{user} invited the on-call: {people}", user=mention(user_id), people=mentions),
    )


def register(app: App, deps: Deps) -> None:
    """Register the [Declare incident] and [Invite] buttons."""
    app.action(PagerDutyAction.DECLARE)(ack=just_ack, lazy=[partial(open_declare, deps=deps)])
    app.action(PagerDutyAction.INVITE_ONCALL)(
        ack=just_ack, lazy=[partial(invite_oncall, deps=deps)]
    )
