"""The App Home tab: the active incidents the reader may see, then each feature's section.

A feature's section is built by `home_section(deps, user_id)` in its events/<feature>.py.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.db import utcnow
from bot.deps import Deps
from bot.incidents import flows
from bot.incidents.privacy import visible_to
from bot.slack.blocks.home import home_view
from bot.slack.listeners.events import followups
from bot.slack.listeners.once import ack_only, once


def register(app: App, deps: Deps) -> None:
    """Register the App Home listener."""
    app.event("app_home_opened")(ack=ack_only, lazy=[once(publish_home, deps)])


def publish_home(event: dict[str, Any], *, deps: Deps) -> None:
    """Publish the App Home of the person who opened it."""
    if event.get("tab", "home") != "home" or not event.get("user"):
        return
    incidents = visible_to(
        flows.list_active(session_factory=deps.session_factory),
        event["user"],
        deps.chat.channel_members,
    )
    sections = followups.home_section(deps, event["user"])  # each feature's, in this order
    deps.chat.publish_home(event["user"], home_view(incidents, utcnow(), sections))
