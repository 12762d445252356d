"""docs/architecture.md stays a true map: every path it names exists, every listener is on it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
LISTENERS = ROOT / "bot" / "slack" / "listeners"


def test_every_path_the_map_names_exists() -> None:
    named = set(re.findall(r"`((?:bot|tests|config|migrations|bench|docs)/[^`<>*\s]+)`", DOC))
    assert named, "the map names no paths"
    missing = sorted(p for p in named if not (ROOT / p.rstrip("/")).exists())
    assert missing == []


def test_every_listener_module_is_on_the_map() -> None:
    """The tree in the map lists each surface's feature modules; a new one must be added."""
    tree = DOC[DOC.index("bot/slack/\n") :]
    for surface in ("commands", "actions", "views", "events"):
        line = next(line for line in tree.splitlines() if line.strip().startswith(f"{surface}/"))
        modules = {p.stem for p in (LISTENERS / surface).glob("*.py") if p.stem != "__init__"}
        assert modules, surface
        assert [m for m in sorted(modules) if m not in line] == [], surface
    blocks_line = next(line for line in tree.splitlines() if line.strip().startswith("blocks/"))
    builders = {p.stem for p in (ROOT / "bot" / "slack" / "blocks").glob("*.py")} - {"__init__"}
    assert [b for b in sorted(builders) if b not in blocks_line] == []
