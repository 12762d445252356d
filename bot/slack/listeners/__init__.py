"""Slack listeners, by surface as in Bolt's starter template; one module per feature in each.

- `commands/`: the /incident slash command (`slash.py`) and its subcommands, one module per
  feature (`incidents.py`, ...), each with a short `register(router)`.
- `actions/`: buttons and selects on our messages.
- `views/`: modal submissions.
- `events/`: Events API (channel activity, pins, App Home).

Each listener is a module-level function: Bolt's arguments by name, `deps` by keyword, bound
with functools.partial by its module's `register(app, deps)`.
"""

from __future__ import annotations

from slack_bolt import App

from bot.deps import Deps
from bot.slack.listeners import actions, commands, events, views


def register(app: App, deps: Deps) -> None:
    """Register every surface's listeners on the app."""
    events.register(app, deps)
    commands.register(app, deps)
    views.register(app, deps)
    actions.register(app, deps)
