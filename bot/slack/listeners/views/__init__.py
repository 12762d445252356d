"""Slack view listeners (modal submissions), one module per feature."""

from __future__ import annotations

from slack_bolt import App

from bot.deps import Deps
from bot.slack.listeners.views import followups, incidents, nudges


def register(app: App, deps: Deps) -> None:
    """Register every feature's modal submission listeners."""
    incidents.register(app, deps)
    nudges.register(app, deps)
    followups.register(app, deps)
