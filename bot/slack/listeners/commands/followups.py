"""/incident followup (add one, or close one by id) and /incident followups (list them).

Replies are ephemeral. The owner's DM is recorded in the outbox with the follow-up and
delivered after the ack by `deliver_followup`.
"""

from __future__ import annotations

import contextlib

from bot.deps import Deps
from bot.followups import flows
from bot.integrations.ports import IntegrationError
from bot.slack.blocks.followups import confirmation_blocks, followup_list_blocks
from bot.slack.listeners.lazy import deliver
from bot.slack.router import CommandInput, CommandRouter, Outcome, followup


def accept_followup(cmd: CommandInput, deps: Deps) -> Outcome:
    """Add a follow-up to this channel's incident, or close one by id."""
    closing = flows.parse_close(cmd.args)
    if closing is not None:
        status, followup_id = closing
        item = flows.close_followup(
            followup_id, status, cmd.user_id, session_factory=deps.session_factory
        )
        return Outcome(reply=f"{item.label} is marked {flows.STATUS_WORDS[status]}: {item.text}")
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
        blocks=confirmation_blocks(said, item),
        followup=followup(deliver_followup, keys=keys) if keys else None,
    )


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


def deliver_followup(
    deps: Deps,
    *,
    keys: list[str],
    channel_id: str = "",
    user_id: str = "",
    reply: str = "",
) -> None:
    """Send the outbox rows a follow-up recorded, then tell the person who added it."""
    deliver(deps, keys=keys)
    if reply and channel_id and user_id:
        with contextlib.suppress(IntegrationError):
            deps.chat.post_ephemeral(channel_id, user_id, reply)


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
