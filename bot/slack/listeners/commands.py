"""The /incident slash command: parse, accept (fast, before the ack), then follow up lazily."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

import structlog
from slack_bolt import Ack, App, BoltContext

from bot.db import session_scope
from bot.deps import Deps
from bot.i18n import _, for_reader
from bot.incidents import service
from bot.incidents.domain import InvalidInput
from bot.integrations.ports import IntegrationError
from bot.observability.context import followup_span
from bot.slack.router import CommandInput, Followup, Outcome
from bot.text import neutralise, truncate

log = structlog.get_logger(__name__)

FOLLOWUP_KEY = "sevbot_followup"


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


def run_followup(
    followup: Followup | None, deps: Deps, *, cause: Mapping[str, Any] | None = None
) -> None:
    """Run a follow-up recorded by an accept function (in a lazy listener or a job).

    `cause` is the Bolt context of the request that asked for it: its span is linked.
    """
    if not followup:
        return
    run = followup.run
    runner = deps.router.followups[run] if isinstance(run, str) else run
    try:
        with followup_span(followup.name, followup.args, deps.session_factory, cause):
            runner(deps, **followup.args)
    except IntegrationError as exc:
        log.warning("followup_failed", followup=followup.name, problem=str(exc))
        user, channel = followup.args.get("user_id"), followup.args.get("channel_id")
        if user and channel:
            with contextlib.suppress(IntegrationError):
                with for_reader():
                    text = _("Sorry, that did not go through: {problem}", problem=exc)
                deps.chat.post_ephemeral(channel, user, text)


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


def register(app: App, deps: Deps) -> None:
    """Register /incident with an ack function and a lazy follow-up."""

    def accept(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
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
        if outcome.followup is not None:
            context[FOLLOWUP_KEY] = outcome.followup
        if outcome.public:
            ack(response_type="in_channel", text=outcome.reply or "")
        elif outcome.reply or outcome.blocks:
            ack(text=outcome.reply or "", blocks=outcome.blocks, response_type="ephemeral")
        else:
            ack()

    def follow_up(context: BoltContext) -> None:
        run_followup(context.get(FOLLOWUP_KEY), deps, cause=context)

    app.command("/incident")(ack=accept, lazy=[follow_up])


def followup(name: str, **args: Any) -> Followup:
    """Build a follow-up (short alias used by subcommands)."""
    return Followup(name, args)
