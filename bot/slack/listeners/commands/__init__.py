"""/incident and its subcommands: `slash.py` routes, one module per feature registers."""

from __future__ import annotations

from slack_bolt import App

from bot.deps import Deps
from bot.slack.listeners.commands import followups, incidents, nudges, pagerduty, postmortems, slash
from bot.slack.router import CommandRouter


def register(app: App, deps: Deps) -> None:
    """Register the /incident slash command."""
    slash.register(app, deps)


def register_subcommands(router: CommandRouter) -> None:
    """Register every feature's subcommands, in the order `/incident help` lists them."""
    incidents.register(router)
    pagerduty.register(router)
    nudges.register(router)
    postmortems.register(router)
    followups.register(router)
