"""Generate docs/configuration.md from the Settings model: `python -m bot.settings_reference`.

Names, types and defaults come from the model itself; the meaning and an example of each
setting come from the field's `description` or, failing that, from MEANINGS below. A test
fails when a setting has neither, or when docs/configuration.md differs from the output.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from pydantic.fields import FieldInfo

from bot.settings import ENV_NAMES, Settings

OUTPUT = Path("docs/configuration.md")

# Setting -> (section, meaning, example). Sections keep the page in the order a reader sets up.
MEANINGS: dict[str, tuple[str, str, str]] = {
    "slack_bot_token": ("Slack", "Bot User OAuth Token of the installed app.", "xoxb-…"),
    "slack_signing_secret": (
        "Slack",
        "Signing secret (Basic Information); required in HTTP mode to verify requests.",
        "8f14e45fceea167a…",
    ),
    "slack_app_token": (
        "Slack",
        "App-level token with `connections:write`; when set, Slack is reached over Socket Mode.",
        "xapp-…",
    ),
    "slack_api_url": (
        "Slack",
        "Slack Web API base URL (a proxy, or the local fake in tests).",
        "https://slack.com/api/",
    ),
    "slack_timeout": ("Slack", "Timeout of one Slack Web API call.", "10s"),
    "socket_mode_client": (
        "Slack",
        "Socket Mode client: `aiohttp` (recovers from every dropped connection within 10 s), "
        "or `websockets`, `websocket-client`, `builtin` for comparison.",
        "aiohttp",
    ),
    "socket_mode_ping_interval": (
        "Slack",
        "Socket Mode keepalive ping; a silent connection is replaced within about 1.7 pings.",
        "3s",
    ),
    "private_incidents_channel": (
        "Incidents",
        "Channel for a redacted notice of each private or security incident (number, severity, "
        "commander; never the title). Unset: private incidents are not mentioned anywhere.",
        "incidents-private",
    ),
    "security_responders": (
        "Incidents",
        "User IDs and/or a user group handle invited to every security incident.",
        "U012AB3CD,@security-team",
    ),
    "followup_nudge_after": (
        "Nudges",
        "How often the owner of an overdue follow-up is reminded by DM.",
        "2d",
    ),
    "followup_escalate_after": (
        "Nudges",
        "After this many reminders an overdue follow-up goes to MANAGERS_CHANNEL.",
        "3",
    ),
    "notion_timeout": ("Notion", "Timeout of one Notion API request.", "30s"),
    "notion_private_postmortem_database_id": (
        "Notion",
        "Database for the postmortems of private and security incidents (unset: they are "
        "filed only by `/incident postmortem`, into the main database).",
        "8a6e…",
    ),
    "notion_followups_database_id": (
        "Notion",
        "Follow-ups database (created by `sevbot notion-setup`); set to file each follow-up "
        "as a Notion page.",
        "2c1d…",
    ),
    "incident_review_channel": (
        "Incidents",
        "Channel for the monthly incident review post (unset: no scheduled review).",
        "incident-review",
    ),
    "incident_review_cron": (
        "Incidents",
        "Cron expression of the review post, in DEFAULT_TIMEZONE (default: first Monday of "
        "the month at 10:00).",
        "0 10 * * mon#1",
    ),
    "incident_review_period": (
        "Incidents",
        "Period the scheduled review covers, compared with the one before it.",
        "30d",
    ),
    "database_url": (
        "Runtime",
        "SQLAlchemy database URL; `postgres://…` as Heroku writes it is accepted. "
        "SQLite assumes one process.",
        "postgresql://sevbot:…@db/sevbot",
    ),
    "port": ("Runtime", "HTTP port of `sevbot run` / `sevbot web`.", "8080"),
    "sevbot_config": (
        "Runtime",
        "Policy file; built-in defaults apply when it is unset and config/sevbot.yaml is absent.",
        "/etc/sevbot/sevbot.yaml",
    ),
    "log_level": ("Runtime", "Log level (DEBUG, INFO, WARNING, ERROR).", "INFO"),
    "log_format": ("Runtime", "Log lines as `console` text or `json`.", "json"),
    "scheduler_tick": ("Runtime", "How often the scheduler looks for due work.", "1s"),
    "language": (
        "Language",
        "Workspace language of the bot's messages (`en` or `ko`); ephemeral replies follow "
        "each user's Slack locale. The variable is not `LANGUAGE`, which gettext reads.",
        "ko",
    ),
    "incidents_channel": (
        "Incidents",
        "Channel (name or ID) where incidents are announced and PagerDuty offers appear.",
        "incidents",
    ),
    "title_max_length": ("Incidents", "Longest accepted incident title (1–150).", "120"),
    "default_responders": (
        "Incidents",
        "Slack user IDs invited to every incident channel (comma-separated).",
        "U0123ABC,U0456DEF",
    ),
    "channel_name_template": (
        "Incidents",
        "Incident channel name; `{number}` is required, `{slug}` is the title's slug.",
        "sev-{number}-{slug}",
    ),
    "severities": (
        "Incidents",
        "Severity levels, most severe first (YAML list of `name`, `description`, "
        "optional `update_nudge_after`).",
        "see config/sevbot.yaml",
    ),
    "default_severity": ("Incidents", "Severity used when none is given.", "SEV-3"),
    "update_nudge_after": (
        "Nudges",
        "Silence in an open incident's channel before the update nudge "
        "(per severity: `severities[].update_nudge_after`).",
        "30m",
    ),
    "nudge_escalate_after": (
        "Nudges",
        "Unanswered update nudges before comms is mentioned and the announcement thread told.",
        "2",
    ),
    "postmortem_schedule_nudge_after": (
        "Nudges",
        "Time after resolve without a postmortem meeting before the scheduling nudge.",
        "24h",
    ),
    "postmortem_complete_nudge_after": (
        "Nudges",
        "Interval between nudges to the postmortem owner until it is marked complete.",
        "2d",
    ),
    "postmortem_complete_escalate_after": (
        "Nudges",
        "Completion nudges before the note goes to MANAGERS_CHANNEL.",
        "3",
    ),
    "managers_channel": (
        "Nudges",
        "Channel told about postmortems left incomplete.",
        "eng-managers",
    ),
    "meeting_reminder_before": ("Nudges", "Reminder ahead of the postmortem meeting.", "1h"),
    "meeting_default_duration": ("Nudges", "Length of a scheduled postmortem meeting.", "45m"),
    "default_timezone": (
        "Nudges",
        "IANA time zone of the team: meeting times, timelines, review windows, cron schedules.",
        "Asia/Seoul",
    ),
    "pagerduty_api_token": (
        "PagerDuty",
        "REST API key; PagerDuty features are off without it.",
        "u+AbCdEf…",
    ),
    "pagerduty_api_url": (
        "PagerDuty",
        "REST API base URL (https only).",
        "https://api.pagerduty.com",
    ),
    "pagerduty_from_email": (
        "PagerDuty",
        "Email of a PagerDuty user, sent as `From` on writes (page, resolve).",
        "oncall-bot@example.com",
    ),
    "pagerduty_webhook_secret": (
        "PagerDuty",
        "V3 webhook signing secret(s), comma-separated while rotating.",
        "old-secret,new-secret",
    ),
    "pagerduty_declare_min_urgency": (
        "PagerDuty",
        "Lowest urgency of a triggered PagerDuty incident that gets a [Declare incident] offer.",
        "high",
    ),
    "pagerduty_priority_threshold": (
        "PagerDuty",
        "Also offer incidents at or above this priority, whatever their urgency.",
        "P2",
    ),
    "pagerduty_page_on_severity": (
        "PagerDuty",
        "Page PAGERDUTY_PAGE_SERVICE when an incident is declared at this severity or worse.",
        "SEV-1",
    ),
    "pagerduty_page_service": (
        "PagerDuty",
        "Service (name or ID) paged on declare.",
        "payments",
    ),
    "pagerduty_severity_map": (
        "PagerDuty",
        "How PagerDuty priorities and urgencies map to severities (YAML mapping).",
        "{priorities: {P1: SEV-1}, urgencies: {high: SEV-2}}",
    ),
    "alert_review_channel": (
        "PagerDuty",
        "Channel of the alert review; no review without it.",
        "oncall",
    ),
    "alert_review_cron": (
        "PagerDuty",
        "Crontab of the alert review in DEFAULT_TIMEZONE (default: every other Monday 10:00).",
        "0 10 * * mon",
    ),
    "alert_review_picks": (
        "PagerDuty",
        "Low-urgency alerts picked for discussion in each review.",
        "3",
    ),
    "night_hours": ("PagerDuty", "Local hours counted as night pages (start-end).", "22-08"),
    "resolve_pagerduty_on_resolve": (
        "PagerDuty",
        "Resolve the linked PagerDuty incidents when the SEV is resolved.",
        "true",
    ),
    "notion_token": (
        "Notion",
        "Internal integration secret; postmortems are tracked without Notion when unset.",
        "ntn_…",
    ),
    "notion_api_url": ("Notion", "Notion API base URL.", "https://api.notion.com"),
    "notion_postmortem_database_id": (
        "Notion",
        "Postmortem database (`sevbot notion-setup` creates it and prints this).",
        "1c2d3e4f…",
    ),
    "postmortem_create_on": (
        "Notion",
        "File the postmortem page on `resolve`, or only on `/incident postmortem` (`command`).",
        "resolve",
    ),
    "postmortem_template": (
        "Notion",
        "Jinja2 markdown template of the postmortem page. The packaged template "
        "(bot/postmortems/templates/postmortem.md.j2) is used when the file is missing; "
        "config/postmortem_template.md is an identical copy to edit. When `language` is `ko` "
        "and this is left at its default, config/postmortem_template.ko.md is used (else the "
        "packaged Korean template).",
        "config/postmortem_template.md",
    ),
    "notion_sync_every": (
        "Notion",
        "How often edited pages are read back (Status Complete, Meeting date).",
        "5m",
    ),
    "postmortem_digest_channel": (
        "Notion",
        "Channel of the weekly postmortem digest; no digest without it.",
        "eng-managers",
    ),
    "postmortem_digest_cron": (
        "Notion",
        "Crontab of the digest in DEFAULT_TIMEZONE (default Mondays 09:00).",
        "0 9 * * mon",
    ),
}
SECTIONS = ["Slack", "Runtime", "Language", "Incidents", "Nudges", "PagerDuty", "Notion", "Other"]


def _duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def default_text(field: FieldInfo) -> str:
    """Return a field's default as a reader would write it."""
    value: Any = field.get_default(call_default_factory=True)
    if value is None:
        return "unset"
    if isinstance(value, SecretStr):
        return "unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, timedelta):
        return _duration(value)
    if isinstance(value, list):
        if value and hasattr(value[0], "name"):
            return " … ".join([value[0].name, value[-1].name]) if len(value) > 1 else value[0].name
        return ", ".join(str(v) for v in value) or "empty"
    if hasattr(value, "model_dump"):
        return "see config/sevbot.yaml"
    return str(value) if value != "" else "empty"


def env_name(name: str, field: FieldInfo) -> str:
    """Return the environment variable that sets a field."""
    if name in ENV_NAMES:
        return ENV_NAMES[name]
    alias = field.validation_alias
    choices = getattr(alias, "choices", None)
    if choices:
        return " / ".join(str(c).upper() for c in choices)
    if isinstance(alias, str):
        return alias.upper()
    return name.upper()


def _secret(field: FieldInfo) -> bool:
    return "SecretStr" in str(field.annotation)


def missing_meanings() -> list[str]:
    """Return the settings that have neither a description nor an entry in MEANINGS."""
    return [
        name
        for name, field in Settings.model_fields.items()
        if not field.description and name not in MEANINGS
    ]


def render() -> str:
    """Return the configuration reference as markdown."""
    rows: dict[str, list[str]] = {section: [] for section in SECTIONS}
    for name, field in Settings.model_fields.items():
        section, meaning, example = MEANINGS.get(name, ("Other", "", ""))
        meaning = field.description or meaning
        if _secret(field):
            meaning += " **Secret**: environment only, never logged."
        cell, sample = meaning.replace("|", "\\|"), example.replace("|", "\\|")
        rows[section].append(
            f"| `{env_name(name, field)}` | `{name}` | {default_text(field)} | {cell} | "
            f"`{sample}` |"
        )
    lines = [
        "# Configuration reference",
        "",
        "<!-- Generated by `python -m bot.settings_reference` from bot/settings.py. "
        "Do not edit by hand: tests/test_configuration_docs.py fails when it is stale. -->",
        "",
        "sevbot reads one settings object. Each setting comes from, in order: the environment "
        "variable, the policy file (`SEVBOT_CONFIG`, by default `config/sevbot.yaml`, keys in "
        "lower case), then the default below. Durations accept `90s`, `45m`, `1h`, `1d` "
        "(minimum `1s`); lists accept comma-separated values in the environment. A bad value "
        "stops the start with a message naming the key.",
        "",
    ]
    for section in SECTIONS:
        if not rows[section]:
            continue
        lines += [
            f"## {section}",
            "",
            "| environment | YAML key | default | meaning | example |",
            "|---|---|---|---|---|",
            *rows[section],
            "",
        ]
    lines += [
        "## Outside the settings model",
        "",
        "| environment | meaning | example |",
        "|---|---|---|",
        "| `SSL_CERT_FILE` | CA bundle trusted for https calls (a company proxy CA). "
        "| `/etc/ssl/company-ca.pem` |",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """Write docs/configuration.md, or with --check say whether it is current."""
    text = render()
    if "--check" in argv:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != text:
            print(f"{OUTPUT} is stale: run python -m bot.settings_reference", file=sys.stderr)
            return 1
        return 0
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
