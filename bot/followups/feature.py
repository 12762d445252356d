"""Plug follow-ups into the bot: the subcommands and the buttons."""

from __future__ import annotations

from bot.deps import Deps
from bot.followups import listeners


def install(deps: Deps) -> None:
    """Register /incident followup, /incident followups and the [Done] / [Won't do] buttons."""
    listeners.register(deps.router)
    deps.extras.setdefault("app_hooks", []).append(listeners.register_actions)
