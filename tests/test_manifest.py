"""The Slack app manifest's usage hint lists every /incident subcommand the bot registers."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from bot.features import build_full_deps
from bot.settings import Settings

MANIFEST = Path(__file__).resolve().parent.parent / "config" / "slack-manifest.yaml"


def test_usage_hint_lists_every_subcommand() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    [command] = [c for c in manifest["features"]["slash_commands"] if c["command"] == "/incident"]
    hint = command["usage_hint"]
    deps = build_full_deps(Settings(slack_bot_token="xoxb-unused", database_url="sqlite://"))
    try:
        names = {entry.name for entry in deps.router.subcommands.values()}
        words = set(re.findall(r"(?:^|\| )([a-z]+)", hint))
        assert names <= words, f"missing from usage_hint: {sorted(names - words)}"
        assert words <= names, f"usage_hint names unknown subcommands: {sorted(words - names)}"
        assert len(hint) <= 1000
    finally:
        deps.engine.dispose()
