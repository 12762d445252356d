"""The one Settings object: environment variables over config/sevbot.yaml over defaults."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

DEFAULT_CONFIG_PATH = Path("config/sevbot.yaml")

_DURATION_RE = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class ConfigError(Exception):
    """A setting is missing or invalid; the message names the key and the problem."""


def parse_duration(value: Any) -> timedelta:
    """Parse '90s', '45m', '1h' or '1d' (or a number of seconds) into a timedelta."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    else:
        match = _DURATION_RE.match(str(value))
        if not match:
            raise ValueError(
                f"{value!r} is not a duration; use a number and a unit: 90s, 45m, 1h, 1d"
            )
        seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds < 1:
        raise ValueError(f"{value!r} is shorter than the minimum of 1s")
    return timedelta(seconds=seconds)


def _split_csv(value: Any) -> Any:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
CsvList = Annotated[list[str], NoDecode, BeforeValidator(_split_csv)]


class SeverityLevel(BaseModel):
    """One severity level of the team's policy."""

    model_config = ConfigDict(extra="forbid")

    name: str
    description: str = ""
    update_nudge_after: Duration | None = None


def _default_severities() -> list[SeverityLevel]:
    descriptions = {
        1: "Critical: customers cannot use the product",
        2: "Major: a core feature is down or degraded for many users",
        3: "Minor: partial degradation with a workaround",
        4: "Low: small impact, no urgency",
        5: "Cosmetic or internal only",
    }
    return [SeverityLevel(name=f"SEV-{n}", description=d) for n, d in descriptions.items()]


class PagerDutySeverityMap(BaseModel):
    """How PagerDuty priorities and urgencies map to our severities."""

    model_config = ConfigDict(extra="forbid")

    priorities: dict[str, str] = Field(
        default_factory=lambda: {
            "P1": "SEV-1",
            "P2": "SEV-2",
            "P3": "SEV-3",
            "P4": "SEV-4",
            "P5": "SEV-5",
        }
    )
    urgencies: dict[str, str] = Field(default_factory=lambda: {"high": "SEV-2", "low": "SEV-4"})


def normalise_database_url(value: str) -> str:
    """Give a postgres:// URL (as Heroku writes it) the driver name SQLAlchemy wants."""
    for prefix in ("postgres://", "postgresql://"):
        if value.startswith(prefix):
            return "postgresql+psycopg://" + value[len(prefix) :]
    return value


class Settings(BaseSettings):
    """Everything sevbot reads from its environment and its policy file."""

    model_config = SettingsConfigDict(extra="forbid", case_sensitive=False, populate_by_name=True)

    # Secrets and deployment (environment only by convention).
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    database_url: str = Field(default="sqlite:///sevbot.db", repr=False)  # may hold a password
    port: int = 3000
    sevbot_config: str | None = None
    log_level: str = "INFO"
    log_format: str = Field(default="console", pattern="^(console|json)$")
    # The environment variable is SEVBOT_LANGUAGE: gettext itself reads LANGUAGE.
    language: str = Field(default="en", pattern="^(en|ko)$")

    # Foundation policy.
    incidents_channel: str = "incidents"
    # Private incidents: a redacted notice (number, severity, commander) goes here when set.
    private_incidents_channel: str | None = None
    # Security incidents invite these: user ids, or one user group handle (@security).
    security_responders: CsvList = Field(default_factory=list)
    title_max_length: int = Field(default=150, ge=1, le=150)
    default_responders: CsvList = Field(default_factory=list)
    channel_name_template: str = "inc-{number}-{slug}"
    severities: list[SeverityLevel] = Field(default_factory=_default_severities)
    default_severity: str = "SEV-3"
    slack_timeout: Duration = timedelta(seconds=10)
    socket_mode_client: str = Field(
        default="aiohttp", pattern="^(aiohttp|websockets|websocket-client|builtin)$"
    )
    socket_mode_ping_interval: Duration = timedelta(seconds=3)

    # Nudges.
    update_nudge_after: Duration = timedelta(hours=1)
    nudge_escalate_after: int = Field(default=2, ge=1)
    postmortem_schedule_nudge_after: Duration = timedelta(hours=24)
    postmortem_complete_nudge_after: Duration = timedelta(days=2)
    postmortem_complete_escalate_after: int = Field(default=3, ge=1)
    managers_channel: str | None = None
    followup_nudge_after: Duration = timedelta(days=2)
    followup_escalate_after: int = Field(default=3, ge=1)
    meeting_reminder_before: Duration = timedelta(hours=1)
    meeting_default_duration: Duration = timedelta(hours=1)
    default_timezone: str = "UTC"
    scheduler_tick: Duration = timedelta(seconds=1)

    # PagerDuty.
    pagerduty_api_token: SecretStr | None = None
    pagerduty_api_url: str = "https://api.pagerduty.com"
    pagerduty_from_email: str | None = None
    pagerduty_webhook_secret: SecretStr | None = None
    pagerduty_declare_min_urgency: str = Field(default="high", pattern="^(high|low)$")
    pagerduty_priority_threshold: str | None = None
    pagerduty_page_on_severity: str | None = None
    pagerduty_page_service: str | None = None
    pagerduty_severity_map: PagerDutySeverityMap = Field(default_factory=PagerDutySeverityMap)
    alert_review_channel: str | None = None
    alert_review_cron: str | None = None
    alert_review_picks: int = Field(default=3, ge=0)
    night_hours: str = Field(default="22-08", pattern=r"^\d{1,2}-\d{1,2}$")
    resolve_pagerduty_on_resolve: bool = False

    # Notion.
    notion_token: SecretStr | None = None
    notion_api_url: str = "https://api.notion.com"
    notion_timeout: Duration = timedelta(seconds=30)
    notion_postmortem_database_id: str | None = None
    notion_private_postmortem_database_id: str | None = None
    notion_followups_database_id: str | None = None
    postmortem_create_on: str = Field(default="resolve", pattern="^(resolve|command)$")
    postmortem_template: str = "config/postmortem_template.md"
    notion_sync_every: Duration = timedelta(minutes=5)
    postmortem_digest_channel: str | None = None
    postmortem_digest_cron: str | None = None

    # The monthly incident review.
    incident_review_channel: str | None = None
    incident_review_cron: str | None = None
    incident_review_period: Duration = timedelta(days=30)

    @field_validator("database_url")
    @classmethod
    def _driver_url(cls, value: str) -> str:
        return normalise_database_url(value)

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    @field_validator("default_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA timezone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        names = [level.name for level in self.severities]
        if not names:
            raise ValueError("severities: at least one severity is required")
        if len(set(names)) != len(names):
            raise ValueError("severities: names must be unique")
        if self.default_severity not in names:
            raise ValueError(f"default_severity: {self.default_severity!r} is not one of {names}")
        explicit = "pagerduty_severity_map" in self.model_fields_set
        for field, mapping in (
            ("priorities", self.pagerduty_severity_map.priorities),
            ("urgencies", self.pagerduty_severity_map.urgencies),
        ):
            if not explicit:  # the built-in map adapts to a team's own severities
                for key in [k for k, sev in mapping.items() if sev not in names]:
                    del mapping[key]
            for key, sev in mapping.items():
                if sev not in names:
                    raise ValueError(
                        f"pagerduty_severity_map.{field}.{key}: {sev!r} is not one of {names}"
                    )
        if "{number}" not in self.channel_name_template:
            raise ValueError("channel_name_template: must contain {number} so names stay unique")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Order the sources: explicit values, then the environment, then the YAML file."""
        return (init_settings, OwnEnvSource(settings_cls), YamlPolicySource(settings_cls))

    # Convenience accessors used across the bot.
    @property
    def severity_names(self) -> list[str]:
        """Return the configured severity names, most severe first."""
        return [level.name for level in self.severities]

    def update_nudge_interval(self, severity: str) -> timedelta:
        """Return the silence interval before an update nudge for this severity."""
        for level in self.severities:
            if level.name == severity and level.update_nudge_after is not None:
                return level.update_nudge_after
        return self.update_nudge_after

    @property
    def socket_mode(self) -> bool:
        """Say whether Slack is reached over Socket Mode rather than HTTP."""
        return self.slack_app_token is not None and bool(self.slack_app_token.get_secret_value())

    @property
    def is_sqlite(self) -> bool:
        """Say whether the database is SQLite (single process assumed)."""
        return self.database_url.startswith("sqlite")


def config_path(explicit: str | None = None) -> Path | None:
    """Return the policy file to read, or None when built-in defaults apply."""
    named = explicit if explicit is not None else os.environ.get("SEVBOT_CONFIG")
    if named:
        path = Path(named)
        if not path.is_file():
            raise ConfigError(f"SEVBOT_CONFIG names {named!r}, which does not exist")
        return path
    return DEFAULT_CONFIG_PATH if DEFAULT_CONFIG_PATH.is_file() else None


# Settings whose environment variable is not their upper-cased name (gettext reads LANGUAGE).
ENV_NAMES = {"language": "SEVBOT_LANGUAGE"}


class OwnEnvSource(EnvSettingsSource):
    """The environment, except variables that belong to other programs (gettext's LANGUAGE)."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        """Return a field's environment value, from its ENV_NAMES variable when it has one."""
        if field_name in ENV_NAMES:
            return self.env_vars.get(ENV_NAMES[field_name].lower()), field_name, False
        return super().get_field_value(field, field_name)


class YamlPolicySource(PydanticBaseSettingsSource):
    """Read team policy from the YAML file named by SEVBOT_CONFIG or config/sevbot.yaml."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        path = config_path()
        self.path = path
        self.data: dict[str, Any] = {}
        if path is None:
            return
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
        if not isinstance(loaded, dict):
            raise ConfigError(f"{path}: the top level must be a mapping of settings")
        self.data = {str(key).lower(): value for key, value in loaded.items()}

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        """Return the YAML value of one field."""
        return self.data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self.data)


def load_settings(**overrides: Any) -> Settings:
    """Build Settings, turning validation errors into one ConfigError naming each key."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        source = config_path() or "environment"
        problems = []
        for error in exc.errors():
            key = ".".join(str(part) for part in error["loc"]) or "settings"
            problems.append(f"{key}: {error['msg']}")
        raise ConfigError(
            f"invalid configuration ({source}): " + "; ".join(problems) + ". Fix the file, or "
            "set the environment variable of the same name in upper case."
        ) from exc


__all__ = ["AliasChoices", "ConfigError", "Duration", "Settings", "load_settings", "parse_duration"]
