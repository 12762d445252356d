"""Slack action listeners (buttons, selects), one module per feature."""

from __future__ import annotations

from slack_bolt import App

from bot.deps import Deps
from bot.slack.listeners.actions import followups, incidents, nudges, pagerduty


def register(app: App, deps: Deps) -> None:
    """Register every feature's button listeners."""
    incidents.register(app, deps)
    pagerduty.register(app, deps)
    nudges.register(app, deps)
    followups.register(app, deps)
