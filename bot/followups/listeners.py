"""Slack side of follow-ups: /incident followup(s) and the [Done] / [Won't do] buttons.

Replies are ephemeral (the command's answer, or chat.postEphemeral after a button). Telling an
owner by DM waits for the outbox the lead is building, so nothing here posts publicly.
"""

from __future__ import annotations

import contextlib
from typing import Any

from slack_bolt import Ack, App

from bot.deps import Deps
from bot.followups import flows
from bot.followups.blocks import describe, followup_list_blocks, home_blocks
from bot.followups.ids import FollowUpAction
from bot.incidents.domain import InvalidInput
from bot.integrations.ports import IntegrationError
from bot.slack.listeners.actions import action_channel
from bot.slack.router import CommandInput, CommandRouter, Outcome

BUTTON_STATUS = {FollowUpAction.DONE: "done", FollowUpAction.WONT_DO: "wont_do"}
WORDS = {"done": "done", "wont_do": "won't do"}


def accept_followup(cmd: CommandInput, deps: Deps) -> Outcome:
    """Add a follow-up to this channel's incident, or close one by id."""
    closing = flows.parse_close(cmd.args)
    if closing is not None:
        status, followup_id = closing
        item = flows.close_followup(
            followup_id, status, cmd.user_id, session_factory=deps.session_factory
        )
        return Outcome(reply=f"{item.label} is marked {WORDS[status]}: {item.text}")
    today = flows.today_in(deps.settings.default_timezone)
    new = flows.parse_new(cmd.args, today=today)
    item, created = flows.add_followup(
        cmd.channel_id,
        cmd.user_id,
        new,
        request_key=f"cmd:{cmd.trigger_id}",
        session_factory=deps.session_factory,
    )
    said = "Added" if created else "Already added"
    return Outcome(reply=f"{said} {item.label}.", blocks=_confirmation(said, item))


def _confirmation(said: str, item: flows.FollowUpView) -> list[dict[str, Any]]:
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"{said}:\n{describe(item)}"}},
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": f"`/incident followup done {item.id}` when it is done."}
            ],
        },
    ]


def accept_followups(cmd: CommandInput, deps: Deps) -> Outcome:
    """List open follow-ups: this incident's (or mine outside one), mine, or all."""
    heading, items = flows.list_followups(
        cmd.args,
        cmd.channel_id,
        cmd.user_id,
        today=flows.today_in(deps.settings.default_timezone),
        session_factory=deps.session_factory,
    )
    return Outcome(reply=f"{heading}: {len(items)}", blocks=followup_list_blocks(heading, items))


def home_section(deps: Deps, user_id: str) -> list[dict[str, Any]]:
    """Return the App Home section listing the user's open follow-ups."""
    _heading, items = flows.list_followups(
        "mine",
        "",
        user_id,
        today=flows.today_in(deps.settings.default_timezone),
        session_factory=deps.session_factory,
    )
    return home_blocks(items)


def close_from_button(body: dict[str, Any], deps: Deps) -> str:
    """Close the follow-up of a clicked [Done] / [Won't do]; return what to tell the clicker."""
    action = body["actions"][0]
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
    return f"{item.label} is marked {WORDS[status]}: {item.text}"


def register(router: CommandRouter) -> None:
    """Register /incident followup and /incident followups."""
    router.subcommand(
        "followup",
        usage=f"{flows.ADD_USAGE} | followup done <id>",
        summary="add a follow-up to this incident, or mark one done",
        repeatable=True,  # a repeated trigger id answers "Already added"
    )(accept_followup)
    router.subcommand(
        "followups",
        repeatable=True,
        usage="/incident followups [mine | all]",
        summary="open follow-ups of this incident (or yours), each with [Done] and [Won't do]",
    )(accept_followups)


def register_actions(app: App, deps: Deps) -> None:
    """Register the [Done] and [Won't do] buttons: ack at once, close and answer lazily."""

    def just_ack(ack: Ack) -> None:
        ack()

    def close_and_answer(body: dict[str, Any]) -> None:
        reply = close_from_button(body, deps)
        channel = action_channel(body)
        if channel:
            with contextlib.suppress(IntegrationError):
                deps.chat.post_ephemeral(channel, body["user"]["id"], reply)

    for action in FollowUpAction:
        app.action(action)(ack=just_ack, lazy=[close_and_answer])
