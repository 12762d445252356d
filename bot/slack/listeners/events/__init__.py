"""Slack Events API listeners, one module per feature."""

from __future__ import annotations

from slack_bolt import App

from bot.deps import Deps
from bot.slack.listeners.events import home, incidents


def register(app: App, deps: Deps) -> None:
    """Register every feature's Events API listeners."""
    incidents.register(app, deps)
    home.register(app, deps)
