"""Slack side of follow-ups: /incident followup(s) and the [Done] / [Won't do] buttons.

Replies are ephemeral (the command's answer, or chat.postEphemeral after a button). The owner's
DM is recorded in the outbox with the follow-up and delivered after the ack.
"""

from __future__ import annotations

import contextlib
import json
from datetime import date
from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.deps import Deps
from bot.followups import flows
from bot.followups.service import SNOOZE_FOR_DAYS
from bot.incidents.domain import InvalidInput
from bot.integrations.ports import IntegrationError
from bot.slack.blocks.followups import add_modal, describe, followup_list_blocks, home_blocks
from bot.slack.ids import FollowUpAction, FollowUpBlock, FollowUpCallback
from bot.slack.listeners.lazy import FOLLOWUP_KEY, run_followup
from bot.slack.listeners.payloads import action_channel
from bot.slack.router import CommandInput, CommandRouter, Followup, Outcome

DELIVER = "followups_deliver"

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
    item, created, keys = flows.add_followup(
        cmd.channel_id,
        cmd.user_id,
        new,
        request_key=f"cmd:{cmd.trigger_id}",
        session_factory=deps.session_factory,
    )
    said = "Added" if created else "Already added"
    return Outcome(
        reply=f"{said} {item.label}.",
        blocks=_confirmation(said, item),
        followup=Followup(DELIVER, {"keys": keys}) if keys else None,
    )


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
    return f"{item.label} is marked {WORDS[status]}: {item.text}"


def accept_modal(
    view: dict[str, Any], user_id: str, deps: Deps
) -> tuple[dict[str, str], Followup | None]:
    """Add the follow-up of a submitted Add follow-up modal; return input errors, or what next."""
    values = view["state"]["values"]
    meta = json.loads(view.get("private_metadata") or "{}")

    def element(block: FollowUpBlock, action: FollowUpAction) -> dict[str, Any]:
        return dict(values.get(block, {}).get(action, {}))

    text = " ".join((element(FollowUpBlock.TEXT, FollowUpAction.TEXT).get("value") or "").split())
    owner = element(FollowUpBlock.OWNER, FollowUpAction.OWNER).get("selected_user") or user_id
    picked = element(FollowUpBlock.DUE, FollowUpAction.DUE).get("selected_date")
    errors: dict[str, str] = {}
    if not text:
        errors[FollowUpBlock.TEXT] = "Say what needs doing."
    elif len(text) > flows.TEXT_LIMIT:
        errors[FollowUpBlock.TEXT] = f"At most {flows.TEXT_LIMIT} characters."
    due = date.fromisoformat(picked) if picked else None
    if due and due < flows.today_in(deps.settings.default_timezone):
        errors[FollowUpBlock.DUE] = f"{due.isoformat()} is in the past."
    if errors:
        return errors, None
    try:
        item, created, keys = flows.add_followup(
            "",
            user_id,
            flows.NewFollowUp(text, owner, due),
            request_key=f"view:{view['id']}",
            session_factory=deps.session_factory,
            incident_id=int(meta.get("incident_id") or 0),
        )
    except InvalidInput as exc:
        return {FollowUpBlock.TEXT: str(exc)}, None
    reply = f"{'Added' if created else 'Already added'} {item.label}: {item.text}"
    args = {"keys": keys, "channel_id": meta.get("channel_id", ""), "user_id": user_id}
    return {}, Followup(DELIVER, {**args, "reply": reply})


def register(router: CommandRouter) -> None:
    """Register /incident followup and /incident followups."""
    router.subcommand(
        "followup",
        usage=f"{flows.ADD_USAGE} | followup done <id>",
        summary="add a follow-up to this incident, or mark one done",
        repeatable=True,  # a repeated trigger id answers "Already added"
    )(accept_followup)
    router.followup(DELIVER)(deliver)
    router.subcommand(
        "followups",
        repeatable=True,
        usage="/incident followups [mine | all]",
        summary="open follow-ups of this incident (or yours), each with [Done] and [Won't do]",
    )(accept_followups)


def deliver(
    deps: Deps,
    *,
    keys: list[str],
    channel_id: str = "",
    user_id: str = "",
    reply: str = "",
) -> None:
    """Send the outbox rows a follow-up recorded, then tell the person who added it."""
    deps.outbox.deliver(keys)
    if reply and channel_id and user_id:
        with contextlib.suppress(IntegrationError):
            deps.chat.post_ephemeral(channel_id, user_id, reply)


def open_add_modal(body: dict[str, Any], deps: Deps) -> None:
    """Open the Add follow-up modal for the incident of a clicked [Add follow-up]."""
    incident_id = int(body["actions"][0].get("value") or 0)
    label = flows.incident_label(incident_id, session_factory=deps.session_factory)
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


def register_actions(app: App, deps: Deps) -> None:
    """Register the follow-up buttons and the modal: ack at once, do the work lazily."""

    def just_ack(ack: Ack) -> None:
        ack()

    def close_and_answer(body: dict[str, Any]) -> None:
        reply = close_from_button(body, deps)
        channel = action_channel(body)
        if channel:
            with contextlib.suppress(IntegrationError):
                deps.chat.post_ephemeral(channel, body["user"]["id"], reply)

    def open_modal(body: dict[str, Any]) -> None:
        open_add_modal(body, deps)

    def accept_submission(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        errors, followup = accept_modal(body["view"], body["user"]["id"], deps)
        if errors:
            ack(response_action="errors", errors=errors)
            return
        if followup is not None:
            context[FOLLOWUP_KEY] = followup
        ack()

    def follow_up(context: BoltContext) -> None:
        run_followup(context.get(FOLLOWUP_KEY), deps)

    for action in (FollowUpAction.DONE, FollowUpAction.WONT_DO, FollowUpAction.SNOOZE):
        app.action(action)(ack=just_ack, lazy=[close_and_answer])
    app.action(FollowUpAction.ADD)(ack=just_ack, lazy=[open_modal])
    app.view(FollowUpCallback.ADD)(ack=accept_submission, lazy=[follow_up])
