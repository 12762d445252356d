"""`sevbot doctor` against the fakes: every check in its passing and its failing state."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from bot.cli import main
from bot.db import make_engine, migrate
from bot.fakes.notion import FakeNotion
from bot.fakes.pagerduty import FakePagerDuty
from bot.fakes.slack import FakeSlack
from bot.fakes.tls import LocalCA
from bot.postmortems.setup import SCHEMA

FROM_EMAIL = "oncall@example.com"


@pytest.fixture(scope="module")
def local_ca() -> Iterator[LocalCA]:
    ca = LocalCA()
    yield ca
    ca.cleanup()


@pytest.fixture(scope="module")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('doctor') / 'sevbot.db'}"
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    return url


@pytest.fixture
def fake_pd(local_ca: LocalCA, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakePagerDuty]:
    fake = FakePagerDuty(ca=local_ca)
    fake.start()
    monkeypatch.setenv("SSL_CERT_FILE", fake.ca_file)
    fake.state.add_user("On Call", FROM_EMAIL)
    yield fake
    fake.stop()


@pytest.fixture
def fake_notion() -> Iterator[FakeNotion]:
    fake = FakeNotion()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def env(
    fake_slack: FakeSlack, migrated_sqlite: str, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """Configure a healthy HTTP-mode bot on the fake Slack; tests then break one thing."""
    fake_slack.add_channel("incidents")
    values = {
        "SLACK_BOT_TOKEN": fake_slack.bot_token,
        "SLACK_SIGNING_SECRET": "signing-secret",
        "SLACK_API_URL": fake_slack.api_url,
        "DATABASE_URL": migrated_sqlite,
        "SLACK_TIMEOUT": "5s",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def doctor(*args: str) -> tuple[int, dict[str, dict[str, Any]]]:
    """Run `sevbot doctor --format json`; return the exit code and the checks by name."""
    result = CliRunner().invoke(main, ["doctor", "--format", "json", *args])
    checks = {c["name"]: c for c in json.loads(result.output)}
    return result.exit_code, checks


def statuses(checks: dict[str, dict[str, Any]]) -> dict[str, str]:
    return {name: c["status"] for name, c in checks.items()}


def test_healthy_bot_passes_every_check_and_changes_nothing(
    env: dict[str, str],
    fake_slack: FakeSlack,
    fake_pd: FakePagerDuty,
    fake_notion: FakeNotion,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PAGERDUTY_API_TOKEN", fake_pd.token)
    monkeypatch.setenv("PAGERDUTY_API_URL", fake_pd.base_url)
    monkeypatch.setenv("PAGERDUTY_FROM_EMAIL", FROM_EMAIL)
    monkeypatch.setenv("PAGERDUTY_WEBHOOK_SECRET", "whsec")
    monkeypatch.setenv("NOTION_TOKEN", fake_notion.token)
    monkeypatch.setenv("NOTION_API_URL", fake_notion.base_url)
    monkeypatch.setenv("NOTION_POSTMORTEM_DATABASE_ID", fake_notion.add_database(SCHEMA))

    code, checks = doctor()

    assert code == 0, checks
    assert statuses(checks) == {
        "settings": "ok",
        "database": "ok",
        "migrations": "ok",
        "slack auth": "ok",
        "slack scopes": "ok",
        "incidents channel": "ok",
        "slack mode": "ok",
        "pagerduty token": "ok",
        "pagerduty from": "ok",
        "pagerduty webhook": "ok",
        "notion token": "ok",
        "notion database": "ok",
        "notion schema": "ok",
    }
    writes = [
        m for m in fake_slack.method_counts() if not m.startswith(("auth.", "conversations.l"))
    ]
    assert writes == [], "the doctor only reads"
    assert all(r.method == "GET" for r in fake_pd.calls())


def test_table_output_names_each_check(env: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["doctor"])
    assert result.exit_code == 0, result.output
    for name in ("settings", "migrations", "slack scopes", "incidents channel", "pagerduty"):
        assert name in result.output
    assert "not configured" in result.output  # PagerDuty and Notion are skipped, not failed


def test_bad_policy_file_fails_the_settings_check(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "sevbot.yaml"
    bad.write_text("title_max_length: lots\n")
    monkeypatch.setenv("SEVBOT_CONFIG", str(bad))
    code, checks = doctor()
    assert code == 1
    assert statuses(checks) == {"settings": "fail"}
    assert "title_max_length" in checks["settings"]["finding"]


def test_database_missing_unreachable_or_behind(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "nowhere.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{missing}")
    code, checks = doctor()
    assert code == 1 and checks["database"]["status"] == "fail"
    assert "sevbot migrate" in checks["database"]["fix"]
    assert not missing.exists(), "the doctor must not create the database"

    empty = tmp_path / "empty.db"
    make_engine(f"sqlite:///{empty}").connect().close()
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{empty}")
    code, checks = doctor()
    assert code == 1
    assert checks["database"]["status"] == "ok"
    assert checks["migrations"]["status"] == "fail"
    assert "none applied" in checks["migrations"]["finding"]

    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:1/nothing")
    code, checks = doctor()
    assert code == 1 and checks["database"]["status"] == "fail"
    assert "cannot connect" in checks["database"]["finding"]


def test_database_at_head_on_each_backend(
    env: dict[str, str], engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    code, checks = doctor()
    assert code == 0, checks
    assert checks["database"]["finding"].startswith(engine.dialect.name)
    assert checks["migrations"]["status"] == "ok"


def test_revoked_token_fails_slack_auth(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-revoked")
    code, checks = doctor()
    assert code == 1
    assert checks["slack auth"]["status"] == "fail"
    assert "invalid_auth" in checks["slack auth"]["finding"]
    assert "xoxb-revoked" not in json.dumps(checks)


def test_missing_scope_is_named(env: dict[str, str], fake_slack: FakeSlack) -> None:
    fake_slack.scopes = [s for s in fake_slack.scopes if s not in {"pins:write", "commands"}]
    code, checks = doctor()
    assert code == 1
    assert checks["slack scopes"]["status"] == "fail"
    assert checks["slack scopes"]["finding"] == "missing: commands, pins:write"


@pytest.mark.parametrize(
    ("setup", "finding"),
    [
        ("absent", "no public channel is named #incidents"),
        ("archived", "is archived"),
        ("private", "is private and the bot is not in it"),
        ("no chat:write", "cannot post"),
    ],
)
def test_incidents_channel_that_cannot_be_used_fails(
    setup: str, finding: str, fake_slack: FakeSlack, env: dict[str, str], monkeypatch: Any
) -> None:
    if setup == "absent":
        fake_slack.reset()
        fake_slack.add_channel("general")
    elif setup == "archived":
        fake_slack.archive_channel("incidents")
    elif setup == "private":
        channel = fake_slack.add_channel("secret-incidents", bot_member=False, is_private=True)
        monkeypatch.setenv("INCIDENTS_CHANNEL", channel)
    else:
        fake_slack.scopes = [s for s in fake_slack.scopes if s != "chat:write"]
    code, checks = doctor()
    assert code == 1
    assert checks["incidents channel"]["status"] == "fail"
    assert finding in checks["incidents channel"]["finding"]


def test_incidents_channel_the_bot_can_join_passes(
    env: dict[str, str], fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_slack.add_channel("sev-room", bot_member=False)
    monkeypatch.setenv("INCIDENTS_CHANNEL", "#sev-room")
    code, checks = doctor()
    assert code == 0, checks
    assert "joins it at start" in checks["incidents channel"]["finding"]


def test_mode_must_match_the_tokens(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1-A1-123-abc")
    code, checks = doctor()
    assert code == 0 and checks["slack mode"]["finding"].startswith("Socket Mode")

    monkeypatch.setenv("SLACK_APP_TOKEN", "xoxb-wrong-kind")
    code, checks = doctor()
    assert code == 1 and "not an app-level token" in checks["slack mode"]["finding"]

    monkeypatch.delenv("SLACK_APP_TOKEN")
    monkeypatch.delenv("SLACK_SIGNING_SECRET")
    code, checks = doctor()
    assert code == 1 and "without SLACK_SIGNING_SECRET" in checks["slack mode"]["finding"]


def test_pagerduty_failures(
    env: dict[str, str], fake_pd: FakePagerDuty, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAGERDUTY_API_URL", fake_pd.base_url)
    monkeypatch.setenv("PAGERDUTY_API_TOKEN", "not-the-token")
    monkeypatch.setenv("PAGERDUTY_FROM_EMAIL", FROM_EMAIL)
    code, checks = doctor()
    assert code == 1 and checks["pagerduty token"]["status"] == "fail"
    assert "refused the API token" in checks["pagerduty token"]["finding"]

    monkeypatch.setenv("PAGERDUTY_API_TOKEN", fake_pd.token)
    monkeypatch.setenv("PAGERDUTY_FROM_EMAIL", "nobody@example.com")
    code, checks = doctor()
    assert code == 1
    assert checks["pagerduty token"]["status"] == "ok"
    assert checks["pagerduty from"]["status"] == "fail"
    assert "nobody@example.com" in checks["pagerduty from"]["finding"]
    assert checks["pagerduty webhook"]["status"] == "fail"  # no secret set either


def test_notion_failures(
    env: dict[str, str], fake_notion: FakeNotion, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOTION_API_URL", fake_notion.base_url)
    monkeypatch.setenv("NOTION_TOKEN", "secret_wrong")
    code, checks = doctor()
    assert code == 1 and checks["notion token"]["status"] == "fail"
    assert "401" in checks["notion token"]["finding"]

    monkeypatch.setenv("NOTION_TOKEN", fake_notion.token)
    monkeypatch.setenv("NOTION_POSTMORTEM_DATABASE_ID", "0" * 32)
    code, checks = doctor()
    assert code == 1 and checks["notion database"]["status"] == "fail"
    assert "share" in checks["notion database"]["finding"]

    partial = {name: SCHEMA[name] for name in list(SCHEMA)[:2]}
    monkeypatch.setenv("NOTION_POSTMORTEM_DATABASE_ID", fake_notion.add_database(partial))
    code, checks = doctor()
    assert code == 1
    assert checks["notion database"]["status"] == "ok"
    assert checks["notion schema"]["status"] == "fail"
    assert "is missing" in checks["notion schema"]["finding"]
