"""Follow-up buttons: [Done], [Won't do], [Snooze 1 week] and [Add follow-up].

Each acks at once; the lazy listener closes (or snoozes) the follow-up and answers the clicker
with chat.postEphemeral, or opens the Add follow-up modal.
"""

from __future__ import annotations

import contextlib
import json
from functools import partial
from typing import Any

from slack_bolt import App

from bot.deps import Deps
from bot.followups import flows
from bot.followups.service import SNOOZE_FOR_DAYS
from bot.incidents.domain import InvalidInput
from bot.integrations.ports import IntegrationError
from bot.slack.blocks.followups import add_modal
from bot.slack.ids import FollowUpAction
from bot.slack.listeners.lazy import just_ack
from bot.slack.listeners.payloads import action_channel

BUTTON_STATUS = {FollowUpAction.DONE: "done", FollowUpAction.WONT_DO: "wont_do"}


def close_from_button(body: dict[str, Any], deps: Deps) -> str:
    """Close (or snooze) the follow-up of a clicked button; return what to tell the clicker."""
    action = body["actions"][0]
    if action["action_id"] == FollowUpAction.SNOOZE:
        try:
            item = flows.snooze_followup(
                int(action.get("value") or 0),
                body["user"]["id"],
                days=SNOOZE_FOR_DAYS,
                session_factory=deps.session_factory,
            )
        except (InvalidInput, ValueError) as exc:
            return str(exc)
        return f"{item.label} is snoozed for {SNOOZE_FOR_DAYS} days: {item.text}"
    status = BUTTON_STATUS[FollowUpAction(action["action_id"])]
    try:
        item = flows.close_followup(
            int(action.get("value") or 0),
            status,
            body["user"]["id"],
            session_factory=deps.session_factory,
        )
    except (InvalidInput, ValueError) as exc:
        return str(exc)
    return f"{item.label} is marked {flows.STATUS_WORDS[status]}: {item.text}"


def close_and_answer(body: dict[str, Any], *, deps: Deps) -> None:
    """Close (or snooze) the clicked follow-up and tell the clicker what happened."""
    reply = close_from_button(body, deps)
    channel = action_channel(body)
    if channel:
        with contextlib.suppress(IntegrationError):
            deps.chat.post_ephemeral(channel, body["user"]["id"], reply)


def open_add_modal(body: dict[str, Any], *, deps: Deps) -> None:
    """Open the Add follow-up modal for the incident of a clicked [Add follow-up]."""
    incident_id = int(body["actions"][0].get("value") or 0)
    label = flows.incident_label_of(incident_id, session_factory=deps.session_factory)
    channel, user = action_channel(body), body["user"]["id"]
    if label is None:
        with contextlib.suppress(IntegrationError):
            deps.chat.post_ephemeral(channel, user, "That incident no longer exists.")
        return
    view = add_modal(incident_id, label, user)
    view["private_metadata"] = json.dumps({"incident_id": incident_id, "channel_id": channel})
    try:
        deps.chat.open_view(body["trigger_id"], view)
    except IntegrationError as exc:
        with contextlib.suppress(IntegrationError):
            deps.chat.post_ephemeral(channel, user, f"Could not open the form: {exc}")


def register(app: App, deps: Deps) -> None:
    """Register the follow-up buttons: ack at once, do the work lazily."""
    for action in (FollowUpAction.DONE, FollowUpAction.WONT_DO, FollowUpAction.SNOOZE):
        app.action(action)(ack=just_ack, lazy=[partial(close_and_answer, deps=deps)])
    app.action(FollowUpAction.ADD)(ack=just_ack, lazy=[partial(open_add_modal, deps=deps)])
