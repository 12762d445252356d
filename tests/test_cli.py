"""The sevbot command line: help, migrate, and clear failures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import inspect

from bot.cli import main
from bot.cli_context import CliContext
from bot.db import make_engine


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for name in ("run", "web", "worker", "migrate"):
        assert name in result.output
        assert CliRunner().invoke(main, [name, "--help"]).exit_code == 0


def test_python_dash_m_bot_is_the_same_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "--help"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0 and "migrate" in done.stdout


def test_migrate_creates_the_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    result = CliRunner().invoke(main, ["migrate"])
    assert result.exit_code == 0, result.output
    assert "incidents" in inspect(make_engine(url)).get_table_names()


def test_run_without_a_token_exits_with_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    result = CliRunner().invoke(main, ["run"])
    assert result.exit_code != 0 and "SLACK_BOT_TOKEN is not set" in result.output
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    result = CliRunner().invoke(main, ["web"])
    assert result.exit_code != 0 and "SLACK_SIGNING_SECRET is required" in result.output


def test_bad_config_exits_with_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("title_max_length: -3\n")
    monkeypatch.setenv("SEVBOT_CONFIG", str(path))
    result = CliRunner().invoke(main, ["migrate"])
    assert result.exit_code != 0 and "title_max_length" in result.output


def test_unreachable_database_exits_with_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:1/none")
    result = CliRunner().invoke(main, ["migrate"])
    assert result.exit_code != 0 and "database" in result.output and "DATABASE_URL" in result.output


@pytest.mark.parametrize("command", ["incident-review", "alert-review", "notion-setup"])
def test_feature_commands_exit_with_the_bad_key(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("title_max_length: -3\n")
    monkeypatch.setenv("SEVBOT_CONFIG", str(path))
    result = CliRunner().invoke(main, [command])
    assert result.exit_code == 1 and "title_max_length" in result.output


def test_the_group_loads_settings_once_and_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    context = CliContext()
    assert context.settings is context.settings
    monkeypatch.setenv("SEVBOT_CONFIG", "/nonexistent/sevbot.yaml")
    assert CliRunner().invoke(main, ["migrate", "--help"]).exit_code == 0
