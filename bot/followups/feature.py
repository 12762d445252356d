"""Plug follow-ups into the bot: the subcommands and the buttons."""

from __future__ import annotations

from bot.deps import Deps
from bot.followups import listeners


def install(deps: Deps) -> None:
    """Register the subcommands, the [Done] / [Won't do] buttons and the App Home section."""
    listeners.register(deps.router)
    deps.extras.setdefault("app_hooks", []).append(listeners.register_actions)
    deps.extras.setdefault("home_sections", []).append(listeners.home_section)
