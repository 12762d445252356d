"""Start the fakes and a real bot wired to them: the demo's world, torn down without a trace."""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from bot.fakes.notion import FakeNotion
from bot.fakes.pagerduty import FakePagerDuty
from bot.fakes.slack import FakeSlack
from bot.fakes.slack_requests import SlackRequestSigner
from bot.fakes.tls import LocalCA
from bot.fakes.wsgi import WsgiServer
from bot.postmortems.render import BUILTIN_TEMPLATE, BUILTIN_TEMPLATES
from bot.postmortems.setup import SCHEMA
from bot.runtime import Bot
from bot.settings import Settings

SIGNING_SECRET = "demo-signing-secret"
WEBHOOK_SECRET = "demo-webhook-secret"
REVIEW_CHANNEL = "oncall-review"

# Only durations (and base URLs) differ from production: hours become seconds.
DEMO_DURATIONS: dict[str, str] = {
    "update_nudge_after": "4s",
    "postmortem_schedule_nudge_after": "3s",
    "postmortem_complete_nudge_after": "1d",
    "meeting_reminder_before": "1h",
}


class DemoSettings(Settings):
    """Settings from explicit values only: the demo ignores the environment and sevbot.yaml."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Read only the values the demo passes in."""
        return (init_settings,)


@dataclass
class People:
    """The demo workspace's humans, by Slack user ID."""

    alice: str
    bob: str
    carol: str
    names: dict[str, str] = field(default_factory=dict)


@dataclass
class World:
    """Everything the demo started; close() stops it all and deletes the temporary files."""

    slack: FakeSlack
    pagerduty: FakePagerDuty
    notion: FakeNotion
    bot: Bot
    server: WsgiServer
    scheduler: BackgroundScheduler
    signer: SlackRequestSigner
    people: People
    incidents_channel: str
    general: str
    review_channel: str
    pd_service: dict[str, Any]
    pd_oncall: dict[str, Any]
    stack: contextlib.ExitStack

    @property
    def url(self) -> str:
        """Return the bot's HTTP base URL."""
        return self.server.url

    def close(self) -> None:
        """Stop the scheduler, the bot, the HTTP server and the fakes; delete temporary files."""
        self.stack.close()


# The demo's three people per language: (Slack name, real name), commander first.
CAST = {
    "en": [("alice", "Alice Kim"), ("bob", "Bob Lee"), ("carol", "Carol Park")],
    "ko": [("jiwoo", "김지우"), ("minsu", "이민수"), ("seoyeon", "박서연")],
}
LOCALES = {"en": "en-US", "ko": "ko-KR"}


def _seed_slack(slack: FakeSlack, language: str) -> tuple[People, str, str, str]:
    ids = [
        slack.add_user(
            name, email=f"{name}@example.com", tz="Asia/Seoul", real_name=real,
            locale=LOCALES[language],
        )
        for name, real in CAST[language]
    ]  # fmt: skip
    alice, bob, carol = ids
    people = People(
        alice, bob, carol, {uid: name for uid, (name, _) in zip(ids, CAST[language], strict=True)}
    )
    incidents = slack.add_channel("incidents", members=[alice, bob, carol])
    general = slack.add_channel("general", members=[alice, bob, carol])
    review = slack.add_channel(REVIEW_CHANNEL, members=[alice, bob])
    return people, incidents, general, review


def _seed_pagerduty(pd: FakePagerDuty, language: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Add the payments service, its on-call, and two weeks of history for the alert review."""
    state = pd.state
    (first, first_real), (second, second_real), _ = CAST[language]
    oncall = state.add_user(first_real, f"{first}@example.com")
    backup = state.add_user(second_real, f"{second}@example.com")
    payments = state.add_service("payments")
    search = state.add_service("search")
    for service in (payments, search):
        policy = state.policies[service["escalation_policy"]["id"]]
        state.add_oncall(oncall, policy, 1, schedule="Primary")
        state.add_oncall(backup, policy, 2)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    history = [
        (payments, "Disk 85% full on db-3", "low", 3),
        (payments, "Payment gateway latency p99 > 2s", "high", 14),
        (search, "Search indexer lag > 10m", "low", 2),
        (search, "Search 5xx rate > 1%", "high", 26),
    ]
    for index in range(18):
        service, title, urgency, hour = history[index % len(history)]
        created = now - timedelta(days=1 + index * 1.5 % 26, hours=(hour + index) % 24)
        state.add_incident(
            service,
            title,
            created_at=created,
            urgency=urgency,
            acknowledged_by=oncall if index % 3 else None,
            resolved_after=timedelta(minutes=10 + index),
            resolved_by=oncall,
        )
    return payments, oncall


def demo_settings(
    slack: FakeSlack,
    pd: FakePagerDuty,
    notion: FakeNotion,
    database_id: str,
    workdir: Path,
    *,
    language: str,
) -> Settings:
    """Return production settings except for base URLs and durations."""
    values: dict[str, Any] = {
        "slack_bot_token": slack.bot_token,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": slack.api_url,
        "database_url": f"sqlite:///{workdir / 'demo.db'}",
        "log_level": "ERROR",
        "incidents_channel": "incidents",
        "default_timezone": "Asia/Seoul",
        "pagerduty_api_token": pd.token,
        "pagerduty_api_url": pd.base_url,
        "pagerduty_from_email": f"{CAST[language][0][0]}@example.com",
        "pagerduty_webhook_secret": WEBHOOK_SECRET,
        "alert_review_channel": REVIEW_CHANNEL,
        "alert_review_cron": "0 10 * * mon",
        "notion_token": notion.token,
        "notion_api_url": notion.base_url,
        "notion_postmortem_database_id": database_id,
        **DEMO_DURATIONS,
    }
    values["postmortem_template"] = str(BUILTIN_TEMPLATES.get(language, BUILTIN_TEMPLATE))
    values["language"] = language
    return DemoSettings(**values)


def start_world(*, language: str = "en") -> World:
    """Start the fakes, assemble the real bot against them, serve it over HTTP, run its jobs."""
    from bot.features import build_full_deps
    from bot.runtime import assemble, start_scheduler

    stack = contextlib.ExitStack()
    try:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sevbot-demo-")))
        ca = LocalCA()
        stack.callback(ca.cleanup)
        slack = FakeSlack(bot_token="xoxb-demo").start()
        stack.callback(slack.stop)
        pd = FakePagerDuty(token="demo-pd-token", ca=ca)
        pd.start()
        stack.callback(pd.stop)
        notion = FakeNotion(token="secret_demo")
        notion.start()
        stack.callback(notion.stop)
        # python-pagerduty only speaks https: trust the fake's CA as a company CA would be.
        previous = os.environ.get("SSL_CERT_FILE")
        os.environ["SSL_CERT_FILE"] = pd.ca_file
        stack.callback(_restore_env, "SSL_CERT_FILE", previous)
        people, incidents, general, review = _seed_slack(slack, language)
        service, oncall = _seed_pagerduty(pd, language)
        for name, real in CAST[language]:
            notion.add_user(real, f"{name}@example.com")
        database_id = notion.add_database(SCHEMA)
        settings = demo_settings(slack, pd, notion, database_id, workdir, language=language)
        bot = assemble(settings, build_full_deps(settings))
        stack.callback(_close_bot, bot)
        server = WsgiServer(bot.web, threads=4)
        stack.enter_context(server)
        scheduler = start_scheduler(bot)
        stack.callback(scheduler.shutdown, wait=True)
        signer = SlackRequestSigner(SIGNING_SECRET, bot_user_id=slack.bot_user_id)
    except BaseException:
        stack.close()
        raise
    return World(
        slack, pd, notion, bot, server, scheduler, signer, people, incidents, general, review,
        service, oncall, stack,
    )  # fmt: skip


def _close_bot(bot: Bot) -> None:
    bot.close()
    executor = bot.deps.pagerduty_inbox
    if executor is not None:
        executor.shutdown(wait=True)


def _restore_env(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value
