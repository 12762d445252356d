"""The /incident slash command: parse, accept (fast, before the ack), then follow up lazily."""

from __future__ import annotations

import contextlib
import dataclasses
from typing import Any

import structlog
from slack_bolt import Ack, App, BoltContext

from bot.deps import Deps
from bot.i18n import _, for_reader
from bot.incidents.domain import InvalidInput
from bot.integrations.ports import IntegrationError
from bot.slack.router import CommandInput, Followup, Outcome

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
            _("I don't know `/incident {name}`.", name=command.name)
            + "\n"
            + deps.router.help_text()
        )
    return entry.accept(command, deps)


def run_followup(followup: dict[str, Any] | None, deps: Deps) -> None:
    """Run a follow-up recorded by an accept function (in a lazy listener or a job)."""
    if not followup:
        return
    runner = deps.router.followups[followup["name"]]
    try:
        runner(deps, **followup["args"])
    except IntegrationError as exc:
        log.warning("followup_failed", followup=followup["name"], problem=str(exc))
        user, channel = followup["args"].get("user_id"), followup["args"].get("channel_id")
        if user and channel:
            with contextlib.suppress(IntegrationError):
                with for_reader():
                    text = _("Sorry, that did not go through: {problem}", problem=exc)
                deps.chat.post_ephemeral(channel, user, text)


def register(app: App, deps: Deps) -> None:
    """Register /incident with an ack function and a lazy follow-up."""

    def accept(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
        command = parse_command(body)
        try:
            with for_reader():  # the ack's reply is for the person who typed the command
                outcome = accept_command(command, deps)
        except InvalidInput as exc:
            ack(text=str(exc), response_type="ephemeral")
            return
        if outcome.followup is not None:
            context[FOLLOWUP_KEY] = dataclasses.asdict(outcome.followup)
        if outcome.public:
            ack(response_type="in_channel", text=outcome.reply or "")
        elif outcome.reply or outcome.blocks:
            ack(text=outcome.reply or "", blocks=outcome.blocks, response_type="ephemeral")
        else:
            ack()

    def follow_up(context: BoltContext) -> None:
        run_followup(context.get(FOLLOWUP_KEY), deps)

    app.command("/incident")(ack=accept, lazy=[follow_up])


def followup(name: str, **args: Any) -> Followup:
    """Build a follow-up (short alias used by subcommands)."""
    return Followup(name, args)
