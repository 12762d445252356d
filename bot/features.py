"""Plug the optional features (nudges, PagerDuty, Notion, the incident review) into core deps.

A feature is a package with a ``feature`` module that exposes ``install(deps)``. ``install``
may:

- subscribe to incident events on ``deps.bus``;
- append ``bot.scheduler.Job`` objects to ``deps.jobs``;
- add WSGI routes (path -> ``bot.web.Route``) to ``deps.routes``;
- set ``deps.link_hooks[kind]`` to link a vendor object asked for at declaration;
- set its vendor's adapter (``deps.pagerduty``, ``deps.notion``).

Its Slack side (subcommands, buttons, modals, events, App Home section) is not installed here:
it lives in ``bot/slack/listeners/<surface>/<feature>.py``, registered by ``create_app()``.

A feature may also expose ``commands``: a list of click commands added to the ``sevbot`` CLI.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.app import register_features
from bot.deps import Deps, build_deps
from bot.settings import Settings


def feature_modules() -> list[Any]:
    """Return the feature modules, imported on demand (nothing is built at import time)."""
    return [
        __import__("bot.pagerduty.feature", fromlist=["install"]),
        __import__("bot.postmortems.feature", fromlist=["install"]),
        __import__("bot.nudges.feature", fromlist=["install"]),
        __import__("bot.followups.feature", fromlist=["install"]),
        __import__("bot.reviews.feature", fromlist=["install"]),
        __import__("bot.doctor.feature", fromlist=["install"]),
    ]


def install_features(deps: Deps) -> Deps:
    """Register the core and every feature's subcommands, follow-ups, routes and jobs on deps."""
    register_features(deps)
    for module in feature_modules():
        install: Callable[[Deps], None] = module.install
        install(deps)
    return deps


def feature_commands() -> list[Any]:
    """Return the CLI commands the features contribute."""
    found: list[Any] = []
    for module in feature_modules():
        commands = getattr(module, "commands", [])
        if isinstance(commands, list | tuple):  # not a submodule that happens to be called so
            found.extend(commands)
    return found


def build_full_deps(settings: Settings) -> Deps:
    """Build deps with every feature installed."""
    return install_features(build_deps(settings))
