"""The /incident slash command: parse, route to a subcommand, ack, then run its follow-up."""

from __future__ import annotations

from functools import partial
from typing import Any

import structlog
from slack_bolt import Ack, App, BoltContext

from bot.db import session_scope
from bot.deps import Deps
from bot.i18n import _, for_reader
from bot.incidents import service
from bot.incidents.domain import InvalidInput
from bot.slack.listeners.lazy import carry, run_carried
from bot.slack.router import CommandInput, Outcome
from bot.text import neutralise, truncate

log = structlog.get_logger(__name__)


def parse_command(body: dict[str, Any]) -> CommandInput:
    """Split the slash command text into a subcommand name and its arguments."""
    # With escaping on, Slack sends &, < and > typed by people as entities; mentions stay markup.
    text = (body.get("text") or "").replace("&lt;", "<").replace("&gt;", ">")
    text = text.replace("&amp;", "&").strip()
    name, args = (text.split(maxsplit=1) + ["", ""])[:2]
    return CommandInput(
        name=name.lower() or "declare",
        args=args.strip(),
        user_id=body.get("user_id", ""),
        channel_id=body.get("channel_id", ""),
        trigger_id=body.get("trigger_id", ""),
    )


def accept_command(command: CommandInput, deps: Deps) -> Outcome:
    """Route a command to its subcommand; unknown ones get the help text."""
    entry = deps.router.subcommands.get(command.name)
    if entry is None:
        raise InvalidInput(
            _("I don't know `/incident {name}`.", name=truncate(command.name, 40))
            + "\n"
            + deps.router.help_text()
        )
    return entry.accept(command, deps)


def _delivery_key(command: CommandInput, deps: Deps) -> str | None:
    entry = deps.router.subcommands.get(command.name)
    if entry is None or entry.repeatable or not command.trigger_id:
        return None
    return f"slash:{command.trigger_id}"


def first_delivery(command: CommandInput, deps: Deps) -> bool:
    """Claim a command's trigger id; False when the same command was already taken."""
    key = _delivery_key(command, deps)
    if key is None:
        return True
    with session_scope(deps.session_factory) as session:
        return service.claim_delivery(key, session=session)


def forget_delivery(command: CommandInput, deps: Deps) -> None:
    """Release the claim of a command that changed nothing, so it can be sent again."""
    key = _delivery_key(command, deps)
    if key is not None:
        with session_scope(deps.session_factory) as session:
            service.forget_delivery(key, session=session)


def accept_incident_command(
    ack: Ack, body: dict[str, Any], context: BoltContext, *, deps: Deps
) -> None:
    """Ack /incident: validate and record quickly, answer, and carry the slow part along."""
    command = parse_command(body)
    if not first_delivery(command, deps):
        ack()  # the same command reached another replica (or came twice): done there
        return
    try:
        with for_reader():  # the ack's reply is for the person who typed the command
            outcome = accept_command(command, deps)
    except InvalidInput as exc:  # the message may quote what was typed: make it inert
        forget_delivery(command, deps)
        ack(text=truncate(neutralise(str(exc)), 3000), response_type="ephemeral")
        return
    except BaseException:
        forget_delivery(command, deps)
        raise
    carry(context, outcome.followup)
    if outcome.public:
        ack(response_type="in_channel", text=outcome.reply or "")
    elif outcome.reply or outcome.blocks:
        ack(text=outcome.reply or "", blocks=outcome.blocks, response_type="ephemeral")
    else:
        ack()


def register(app: App, deps: Deps) -> None:
    """Register /incident: the ack above, then the follow-up in a lazy listener."""
    app.command("/incident")(
        ack=partial(accept_incident_command, deps=deps), lazy=[partial(run_carried, deps=deps)]
    )
