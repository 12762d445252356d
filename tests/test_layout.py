"""The import rules the tree cannot show: who may import the fakes, and who may import the CLI."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BOT = ROOT / "bot"
# Every Python file that ships or runs in production; tests/ and bench/ are left out on purpose.
SOURCES = (BOT, ROOT / "migrations")


def module_name(path: Path) -> str:
    """Return the dotted module name of a file under the repository root."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_of(path: Path) -> str:
    """Return the package that relative imports in a file start from."""
    return module_name(path) if path.name == "__init__.py" else module_name(path.parent)


def imported_modules(source: str, package: str) -> Iterator[str]:
    """Yield every module the source imports, by absolute name (`from a import b`: a and a.b)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name | ast.Attribute)
            and getattr(node.func, "id", getattr(node.func, "attr", None))
            in {"__import__", "import_module"}
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.args[0].value


def is_within(module: str, package: str) -> bool:
    """Tell whether a module is the package or one of its submodules."""
    return module == package or module.startswith(f"{package}.")


def importers_of(package: str, *, allowed: tuple[str, ...]) -> list[str]:
    """Return the files of bot/ and migrations/, outside the allowed packages, that import it."""
    offenders = []
    for path in sorted(p for source in SOURCES for p in source.rglob("*.py")):
        name = module_name(path)
        if any(is_within(name, other) for other in allowed):
            continue
        source = path.read_text(encoding="utf-8")
        imports = imported_modules(source, package_of(path))
        found = sorted({m for m in imports if is_within(m, package)})
        if found:
            offenders.append(f"{path.relative_to(ROOT)} imports {', '.join(found)}")
    return offenders


def test_only_tests_bench_and_the_demo_import_the_fakes() -> None:
    """The fakes serve tests, bench/ and `sevbot demo`; the bot itself never runs against them."""
    assert importers_of("bot.fakes", allowed=("bot.fakes", "bot.demo")) == []


def test_no_module_but_the_entry_points_imports_the_cli() -> None:
    """Features take their settings from the click context (bot.cli_context), not from bot.cli."""
    assert importers_of("bot.cli", allowed=("bot.cli", "bot.__main__")) == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import bot.fakes.slack", {"bot.fakes.slack"}),
        ("from bot import fakes", {"bot", "bot.fakes"}),
        ("from ..fakes import slack", {"bot.fakes", "bot.fakes.slack"}),
        ("from . import cli", {"bot.demo", "bot.demo.cli"}),
        ("__import__('bot.cli', fromlist=['main'])", {"bot.cli"}),
        ("importlib.import_module('bot.fakes')", {"bot.fakes"}),
    ],
)
def test_the_check_sees_every_kind_of_import(source: str, expected: set[str]) -> None:
    """Absolute, relative and dynamic imports are all resolved to absolute module names."""
    assert package_of(BOT / "demo" / "world.py") == "bot.demo"
    assert set(imported_modules(source, "bot.demo")) == expected


def test_bot_cli_context_is_not_mistaken_for_bot_cli() -> None:
    """A module whose name merely starts with the package's is not inside it."""
    assert not is_within("bot.cli_context", "bot.cli")
    assert is_within("bot.cli", "bot.cli") and is_within("bot.fakes.slack", "bot.fakes")


VENDOR_SDKS = ("slack_bolt", "slack_sdk", "pagerduty", "notion_client")
# The domain: features' models, services, flows and jobs. Slack code lives under bot/slack/,
# vendor SDKs only in bot/integrations/ (the adapters) and the composition root.
DOMAIN = (
    "bot.incidents",
    "bot.nudges",
    "bot.pagerduty",
    "bot.postmortems",
    "bot.followups",
    "bot.reviews",
    "bot.outbox",
)


@pytest.mark.parametrize("sdk", VENDOR_SDKS)
def test_the_domain_imports_no_vendor_sdk(sdk: str) -> None:
    """Feature folders call ports; Slack listeners and Block Kit live under bot/slack/."""
    offenders = []
    for path in sorted(BOT.rglob("*.py")):
        if not any(is_within(module_name(path), domain) for domain in DOMAIN):
            continue
        imports = imported_modules(path.read_text(encoding="utf-8"), package_of(path))
        if any(is_within(m, sdk) for m in imports):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_the_vendor_check_would_see_a_domain_import() -> None:
    """A domain module importing Slack's SDK is reported (the check can fail)."""
    found = set(imported_modules("from slack_sdk.models.blocks import SectionBlock", "bot.nudges"))
    assert any(is_within(m, "slack_sdk") for m in found)


def test_the_domain_uses_only_the_pure_builders_of_the_slack_side() -> None:
    """Listeners call flows, not the reverse; features may render with bot.slack.blocks."""
    offenders = []
    for path in sorted(BOT.rglob("*.py")):
        if not any(is_within(module_name(path), domain) for domain in DOMAIN):
            continue
        imports = imported_modules(path.read_text(encoding="utf-8"), package_of(path))
        wrong = sorted(
            m
            for m in imports
            if is_within(m, "bot.slack")
            and m != "bot.slack"
            and not is_within(m, "bot.slack.blocks")
        )
        if wrong:
            offenders.append(f"{path.relative_to(ROOT)} imports {', '.join(wrong)}")
    assert offenders == []
