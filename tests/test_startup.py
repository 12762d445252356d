"""`sevbot run`, `web` and `worker` refuse to start with one line naming the cause and the fix.

Each case runs the real command (`python -m bot …`) against the fake Slack, on a database
migrated beforehand (so no migration output interleaves), and reads its stderr.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.db import make_engine, migrate
from bot.fakes.slack import FakeSlack

COMMANDS = ["run", "web", "worker"]
# cause -> (what to change, words the one line must contain: the cause, then the fix)
CAUSES: dict[str, tuple[dict[str, str], tuple[str, str]]] = {
    "slack-unreachable": ({"SLACK_API_URL": "http://127.0.0.1:9/api/"}, ("unreachable", "network")),
    "invalid-auth": ({"SLACK_BOT_TOKEN": "xoxb-not-the-token"}, ("invalid_auth", "OAuth")),
    "token-revoked": ({}, ("token_revoked", "reinstall")),
    "database-unreachable": (
        {"DATABASE_URL": "postgresql+psycopg://sevbot:hunter2@127.0.0.1:9/sevbot"},
        ("database", "DATABASE_URL"),
    ),
    "bad-config": ({"SEVBOT_CONFIG": "bad.yaml"}, ("update_nudge_after", "Fix the file")),
}


def _start(command: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", command],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _env(fake: FakeSlack, tmp_path: Path, **changes: str) -> dict[str, str]:
    database = f"sqlite:///{tmp_path / 'start.db'}"
    migrate(make_engine(database))
    (tmp_path / "bad.yaml").write_text("severities: 5\nupdate_nudge_after: banana\n")
    return {
        **os.environ,
        "SLACK_BOT_TOKEN": fake.bot_token,
        "SLACK_SIGNING_SECRET": "startup-secret",
        "SLACK_API_URL": fake.api_url,
        "DATABASE_URL": database,
        "PORT": "0",
        "SEVBOT_CONFIG": str(tmp_path / "empty.yaml"),
        **changes,
    }


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("cause", list(CAUSES))
def test_start_failure_is_one_line_with_cause_and_fix(
    fake_slack: FakeSlack, tmp_path: Path, cause: str, command: str
) -> None:
    changes, (what, fix) = CAUSES[cause]
    (tmp_path / "empty.yaml").write_text("{}\n")
    env = _env(fake_slack, tmp_path, **changes)
    if env["SEVBOT_CONFIG"] == "bad.yaml":
        env["SEVBOT_CONFIG"] = str(tmp_path / "bad.yaml")
    if cause == "token-revoked":
        fake_slack.fail_method("auth.test", "token_revoked")
    done = _start(command, env, tmp_path)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("Error: ")
    assert what in lines[0] and fix in lines[0], lines[0]
    assert "hunter2" not in done.stderr + done.stdout


def test_migration_output_only_when_a_migration_runs(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'm.db'}",
        "SEVBOT_CONFIG": str(tmp_path / "empty.yaml"),
    }
    (tmp_path / "empty.yaml").write_text("{}\n")
    first = _start("migrate", env, tmp_path)
    assert first.returncode == 0, first.stderr
    assert "Running upgrade" in first.stderr
    again = _start("migrate", env, tmp_path)
    assert again.returncode == 0, again.stderr
    assert "alembic" not in again.stderr and "setup plugin" not in again.stderr, again.stderr
    assert again.stdout.strip() == "database is up to date"
