"""Settings: YAML policy, environment overrides, durations and clear errors."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.settings import ConfigError, load_settings, parse_duration


def _policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.setenv("SEVBOT_CONFIG", str(path))


def test_defaults_without_a_policy_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SEVBOT_CONFIG")
    monkeypatch.delenv("DATABASE_URL")
    monkeypatch.chdir(tmp_path)  # no config/sevbot.yaml here: built-in defaults
    settings = load_settings()
    assert settings.database_url == "sqlite:///sevbot.db" and settings.port == 3000
    assert settings.incidents_channel == "incidents" and settings.title_max_length == 150
    assert settings.channel_name_template == "inc-{number}-{slug}"
    assert settings.default_responders == [] and settings.default_severity == "SEV-3"
    assert settings.slack_api_url == "https://slack.com/api/" and not settings.socket_mode


def test_the_shipped_policy_file_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEVBOT_CONFIG", str(Path(__file__).parents[1] / "config/sevbot.yaml"))
    settings = load_settings()
    assert settings.severity_names == ["SEV-1", "SEV-2", "SEV-3", "SEV-4", "SEV-5"]
    assert settings.update_nudge_after == timedelta(hours=1)


def test_yaml_policy_and_environment_override(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _policy(
        tmp_path,
        monkeypatch,
        "incidents_channel: sev-room\ntitle_max_length: 80\nupdate_nudge_after: 45m\n"
        "severities:\n  - {name: SEV-1, update_nudge_after: 30m}\n  - {name: SEV-2}\n"
        "default_severity: SEV-2\n",
    )
    monkeypatch.setenv("TITLE_MAX_LENGTH", "60")
    monkeypatch.setenv("DEFAULT_RESPONDERS", "U1, U2")
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db.example.com:5432/sev")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1")
    settings = load_settings()
    assert settings.incidents_channel == "sev-room" and settings.title_max_length == 60
    assert settings.default_responders == ["U1", "U2"]
    assert settings.database_url == "postgresql+psycopg://u:p@db.example.com:5432/sev"
    assert settings.update_nudge_interval("SEV-1") == timedelta(minutes=30)
    assert settings.update_nudge_interval("SEV-2") == timedelta(minutes=45)
    assert settings.socket_mode


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("title_max_length: lots\n", "title_max_length"),
        ("update_nudge_after: soon\n", "update_nudge_after"),
        ("update_nudge_after: 0s\n", "update_nudge_after"),
        ("default_severity: SEV-9\n", "default_severity"),
        ("default_timezone: Mars/Base\n", "default_timezone"),
        ("no_such_setting: 1\n", "no_such_setting"),
        ("channel_name_template: inc-{slug}\n", "channel_name_template"),
        ("- a list\n", "top level must be a mapping"),
        ("a: [unclosed\n", "not valid YAML"),
    ],
)
def test_bad_policy_names_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, named: str
) -> None:
    _policy(tmp_path, monkeypatch, text)
    with pytest.raises(ConfigError, match=named):
        load_settings()


def test_missing_named_policy_file_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEVBOT_CONFIG", "/nonexistent/sevbot.yaml")
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings()


@pytest.mark.parametrize(
    ("text", "seconds"), [("1s", 1), ("90s", 90), ("45m", 2700), ("1h", 3600), ("1d", 86400)]
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


def test_secrets_are_not_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-very-secret")
    assert "xoxb-very-secret" not in repr(load_settings())
