"""Plug the optional features (nudges, PagerDuty, Notion) into the core deps."""

from __future__ import annotations

from bot.app import register_features
from bot.deps import Deps, build_deps
from bot.settings import Settings


def install_features(deps: Deps) -> Deps:
    """Register every feature's subcommands, follow-ups, routes and jobs on deps."""
    register_features(deps)
    return deps


def build_full_deps(settings: Settings) -> Deps:
    """Build deps with every feature installed."""
    return install_features(build_deps(settings))
