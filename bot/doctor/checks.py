"""The doctor's checks. Each reads only: no message is posted, no migration is applied."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Engine, make_url

from bot.settings import ConfigError, Settings, load_settings

OK, FAIL, SKIP = "ok", "fail", "skip"
MANIFEST = Path("config") / "slack-manifest.yaml"
_SOURCE_MANIFEST = Path(__file__).resolve().parents[2] / MANIFEST


@dataclass(frozen=True)
class Check:
    """One finding: what was checked, how it went, what was found and how to fix it."""

    name: str
    status: str
    finding: str
    fix: str = ""


def check_settings() -> tuple[Check, Settings | None]:
    """Load the settings (environment and policy file) as the bot would."""
    try:
        settings = load_settings()
    except ConfigError as exc:
        return Check("settings", FAIL, str(exc), "fix the named setting and run again"), None
    return Check("settings", OK, "environment and policy file load"), settings


def check_database(settings: Settings) -> list[Check]:
    """Connect to the database and compare its migration revision with the code's head."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from bot.db import alembic_config, make_engine

    url = make_url(settings.database_url)
    on_disk = url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
    if on_disk and not Path(url.database or "").exists():  # connecting would create the file
        return [
            Check(
                "database",
                FAIL,
                f"SQLite file {url.database} does not exist",
                "run `sevbot migrate`, or point DATABASE_URL at the right database",
            )
        ]
    engine: Engine = make_engine(settings.database_url)
    try:
        with engine.connect() as conn:
            current = set(MigrationContext.configure(conn).get_current_heads())
    except Exception as exc:
        return [Check("database", FAIL, f"cannot connect: {exc}", "check DATABASE_URL")]
    finally:
        engine.dispose()
    found = Check("database", OK, f"{url.get_backend_name()} answers")
    heads = set(ScriptDirectory.from_config(alembic_config(engine)).get_heads())
    if current == heads:
        return [found, Check("migrations", OK, f"at head ({', '.join(sorted(heads))})")]
    behind = ", ".join(sorted(current)) or "none applied"
    return [
        found,
        Check(
            "migrations",
            FAIL,
            f"database at {behind}; code expects {', '.join(sorted(heads))}",
            "run `sevbot migrate`",
        ),
    ]


def required_scopes(manifest: Path | None = None) -> list[str]:
    """Return the bot scopes the Slack app manifest asks for."""
    path = manifest or (MANIFEST if MANIFEST.exists() else _SOURCE_MANIFEST)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [str(s) for s in data["oauth_config"]["scopes"]["bot"]]


def check_slack(settings: Settings, manifest: Path | None = None) -> list[Check]:
    """Check the token (auth.test), its scopes, the incidents channel and the connection mode."""
    from slack_sdk.errors import SlackApiError, SlackClientError

    from bot.integrations.slack import make_web_client

    checks = [check_mode(settings)]
    if settings.slack_bot_token is None:
        checks.insert(
            0, Check("slack auth", FAIL, "SLACK_BOT_TOKEN is not set", "set the xoxb- bot token")
        )
        return checks
    client = make_web_client(settings)
    try:
        response = client.auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error", "error")
        checks.insert(
            0,
            Check(
                "slack auth",
                FAIL,
                f"auth.test answered {error}",
                "set SLACK_BOT_TOKEN to the app's Bot User OAuth Token (reinstall if revoked)",
            ),
        )
        return checks
    except (SlackClientError, OSError) as exc:
        checks.insert(
            0, Check("slack auth", FAIL, f"cannot reach Slack: {exc}", "check SLACK_API_URL")
        )
        return checks
    team = response.get("team") or response.get("team_id")
    checks.insert(0, Check("slack auth", OK, f"bot {response.get('user')} in {team}"))
    granted = {s.strip() for s in (response.headers.get("x-oauth-scopes") or "").split(",")}
    missing = [s for s in required_scopes(manifest) if s not in granted]
    checks.insert(
        1,
        Check(
            "slack scopes",
            FAIL,
            f"missing: {', '.join(missing)}",
            "add them under OAuth & Permissions (or update the app from the manifest) "
            "and reinstall the app",
        )
        if missing
        else Check("slack scopes", OK, "every scope of the app manifest is granted"),
    )
    checks.insert(2, check_incidents_channel(settings, client, granted))
    return checks


def check_incidents_channel(settings: Settings, client: Any, granted: set[str]) -> Check:
    """Check that INCIDENTS_CHANNEL exists, is not archived, and the bot is in it or can join."""
    from slack_sdk.errors import SlackApiError

    wanted = settings.incidents_channel.lstrip("#")
    fix = "create the channel, or set INCIDENTS_CHANNEL to an existing one"
    try:
        if wanted[:1] in {"C", "G"} and wanted.upper() == wanted:
            channel = client.conversations_info(channel=wanted)["channel"]
        else:
            channel = _find_channel(client, wanted)
    except SlackApiError as exc:
        error = exc.response.get("error", "error")
        if error == "channel_not_found":  # also what Slack says of a private channel without us
            return Check(
                "incidents channel",
                FAIL,
                f"{wanted} is not found, or is private and the bot is not in it",
                f"{fix}; /invite the bot to a private channel",
            )
        return Check("incidents channel", FAIL, f"#{wanted}: {error}", fix)
    if channel is None:
        return Check("incidents channel", FAIL, f"no public channel is named #{wanted}", fix)
    name = f"#{channel.get('name', wanted)}"
    if channel.get("is_archived"):
        return Check(
            "incidents channel", FAIL, f"{name} is archived", "unarchive it or pick another"
        )
    if "chat:write" not in granted:
        return Check("incidents channel", FAIL, f"cannot post in {name}", "grant chat:write")
    if channel.get("is_member"):
        return Check("incidents channel", OK, f"{name} exists and the bot is a member")
    if "channels:join" not in granted:
        return Check(
            "incidents channel",
            FAIL,
            f"the bot is not in {name} and cannot join",
            "grant channels:join or /invite the bot",
        )
    return Check("incidents channel", OK, f"{name} exists; the bot joins it at start")


def _find_channel(client: Any, name: str) -> dict[str, Any] | None:
    for page in client.conversations_list(
        types="public_channel", exclude_archived=False, limit=1000
    ):
        for channel in page["channels"]:
            if channel.get("name") == name:
                return dict(channel)
    return None


def check_mode(settings: Settings) -> Check:
    """Check that Socket Mode or HTTP mode has the tokens it needs, and no contradiction."""
    bot = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else ""
    if bot and not bot.startswith("xoxb-"):
        return Check(
            "slack mode", FAIL, "SLACK_BOT_TOKEN is not a bot token (xoxb-)", "use the xoxb- token"
        )
    if settings.socket_mode:
        app = settings.slack_app_token.get_secret_value() if settings.slack_app_token else ""
        if not app.startswith("xapp-"):
            return Check(
                "slack mode",
                FAIL,
                "SLACK_APP_TOKEN is set but is not an app-level token (xapp-)",
                "create an app-level token with connections:write, or unset it for HTTP mode",
            )
        return Check("slack mode", OK, "Socket Mode (SLACK_APP_TOKEN is set)")
    if settings.slack_signing_secret is None:
        return Check(
            "slack mode",
            FAIL,
            "HTTP mode without SLACK_SIGNING_SECRET",
            "set SLACK_SIGNING_SECRET, or SLACK_APP_TOKEN for Socket Mode",
        )
    return Check("slack mode", OK, "HTTP mode (signing secret set, no SLACK_APP_TOKEN)")


def check_pagerduty(settings: Settings) -> list[Check]:
    """Check the PagerDuty token, the From user and the webhook secret, when configured."""
    from bot.integrations.pagerduty import PagerDutyAdapter
    from bot.integrations.ports import IntegrationError

    if settings.pagerduty_api_token is None:
        return [Check("pagerduty", SKIP, "not configured (PAGERDUTY_API_TOKEN unset)")]
    try:
        adapter = PagerDutyAdapter.from_settings(settings, attempts=1, max_rate_limit_waits=1)
    except IntegrationError as exc:
        return [Check("pagerduty token", FAIL, str(exc), "fix PAGERDUTY_API_URL")]
    email = (settings.pagerduty_from_email or "").strip()
    try:
        body = adapter.request(
            "GET", "/users", params={"query": email, "limit": 100} if email else {"limit": 1}
        )
    except IntegrationError as exc:
        return [Check("pagerduty token", FAIL, str(exc), "set PAGERDUTY_API_TOKEN to a REST key")]
    finally:
        adapter.close()
    checks = [Check("pagerduty token", OK, "the REST API key works")]
    if not email:
        checks.append(
            Check("pagerduty from", FAIL, "PAGERDUTY_FROM_EMAIL is not set", "set a user's email")
        )
    elif any(str(u.get("email", "")).lower() == email.lower() for u in body.get("users") or []):
        checks.append(Check("pagerduty from", OK, f"{email} is a PagerDuty user"))
    else:
        checks.append(
            Check(
                "pagerduty from",
                FAIL,
                f"no PagerDuty user has the email {email}",
                "set PAGERDUTY_FROM_EMAIL to an existing user's email",
            )
        )
    secret = settings.pagerduty_webhook_secret
    checks.append(
        Check("pagerduty webhook", OK, "PAGERDUTY_WEBHOOK_SECRET is set")
        if secret is not None and secret.get_secret_value().strip()
        else Check(
            "pagerduty webhook",
            FAIL,
            "PAGERDUTY_WEBHOOK_SECRET is not set: webhooks would be refused",
            "copy the V3 webhook subscription's secret into PAGERDUTY_WEBHOOK_SECRET",
        )
    )
    return checks


def check_notion(settings: Settings) -> list[Check]:
    """Check the Notion token, that the database is shared, and its schema, when configured."""
    from bot.integrations.notion import NotionAdapter
    from bot.integrations.ports import IntegrationError
    from bot.postmortems.setup import check_database as check_schema

    notion = NotionAdapter.from_settings(settings)
    if notion is None:
        return [Check("notion", SKIP, "not configured (NOTION_TOKEN unset)")]
    notion.max_attempts = 2
    try:
        try:
            notion.whoami()
        except IntegrationError as exc:
            return [Check("notion token", FAIL, str(exc), "set NOTION_TOKEN")]
        checks = [Check("notion token", OK, "the integration token works")]
        database = settings.notion_postmortem_database_id
        if not database:
            fix = "run `sevbot notion-setup --parent-page <page>`"
            return [*checks, Check("notion database", FAIL, "not set", fix)]
        try:
            problems = check_schema(notion, database)
        except IntegrationError as exc:
            return [*checks, Check("notion database", FAIL, str(exc), "share it")]
        checks.append(Check("notion database", OK, "shared with the integration"))
        checks.append(
            Check(
                "notion schema",
                FAIL,
                "; ".join(problems),
                "fix the properties (`sevbot notion-setup --database <id>` lists them)",
            )
            if problems
            else Check("notion schema", OK, "every property sevbot writes exists, rightly typed")
        )
        return checks
    finally:
        notion.close()


def run_checks(manifest: Path | None = None) -> list[Check]:
    """Run every check; later checks are skipped when settings do not load."""
    first, settings = check_settings()
    if settings is None:
        return [first]
    groups: list[Callable[[], list[Check]]] = [
        lambda: check_database(settings),
        lambda: check_slack(settings, manifest),
        lambda: check_pagerduty(settings),
        lambda: check_notion(settings),
    ]
    checks = [first]
    for group in groups:
        checks.extend(group())
    return checks
