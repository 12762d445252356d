"""`GET /metrics` after a declare, a nudge and an export: every fixed metric name is there."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from bot.db import session_scope
from bot.deps import build_deps
from bot.fakes.notion import FakeNotion
from bot.fakes.server import Response
from bot.fakes.slack import FakeSlack
from bot.features import install_features
from bot.integrations.notion import NotionAdapter
from bot.integrations.ports import IntegrationError
from bot.integrations.slack import make_web_client, slack_outcome
from bot.nudges.jobs import run_nudges
from bot.observability import metrics
from bot.outbox import service as outbox_service
from bot.outbox.service import Outgoing
from bot.postmortems.setup import SCHEMA
from bot.runtime import Bot, assemble
from bot.settings import Settings
from tests.harness import Harness, HttpServer, start_harness, wait_until

T0 = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
NAMES = {
    "sevbot_vendor_requests",
    "sevbot_vendor_request_seconds",
    "sevbot_open_incidents",
    "sevbot_nudges_sent",
    "sevbot_scheduler_lag_seconds",
    "sevbot_webhook_deliveries",
    "sevbot_ack_seconds",
    "sevbot_outbox_pending",
    "sevbot_outbox_oldest_seconds",
}
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(bot: Bot) -> tuple[set[str], Samples, str]:
    """GET /metrics over HTTP; return the family names, the samples and the raw text."""
    with HttpServer(bot) as server, urllib.request.urlopen(server.url + "/metrics") as reply:
        text = reply.read().decode()
    families = list(text_string_to_metric_families(text))
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value for f in families for s in f.samples
    }
    return {f.name for f in families}, samples, text


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def bot(
    fake_slack: FakeSlack, clean_engine: Engine, fake_notion: FakeNotion
) -> Iterator[tuple[Harness, Any]]:
    with time_machine.travel(T0, tick=False) as traveller:
        h = start_harness(
            fake_slack,
            clean_engine,
            notion_token=fake_notion.token,
            notion_api_url=fake_notion.base_url,
            notion_postmortem_database_id=fake_notion.add_database(SCHEMA),
        )
        yield h, traveller
        h.bot.close()


def test_metrics_after_a_declare_a_nudge_and_an_export(
    bot: tuple[Harness, Any], fake_notion: FakeNotion
) -> None:
    h, traveller = bot
    _, before, _ = scrape(h.bot)

    h.declare("declare sev1 Payments are down")
    incident = h.declare("declare sev2 Checkout is down")
    traveller.shift(timedelta(hours=2))
    sent = run_nudges(h.deps)
    assert sent is not None and sent.sent >= 2
    assert h.command("resolve The pool is resized", channel=incident["channel"]).status == 200
    wait_until(lambda: fake_notion.pages, message="postmortem exported")
    h.settle()

    names, after, text = scrape(h.bot)

    assert names >= NAMES, NAMES - names
    assert "sevbot_vendor_requests_total{" in text and "sevbot_nudges_sent_total{" in text

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    slack_post = {"vendor": "slack", "method": "chat.postMessage"}
    assert grew("sevbot_vendor_requests_total", **slack_post, outcome="ok") >= 4
    assert grew("sevbot_vendor_request_seconds_count", **slack_post) >= 4
    assert grew(
        "sevbot_vendor_requests_total", vendor="notion", method="pages.create", outcome="ok"
    )
    assert grew("sevbot_nudges_sent_total", kind="update") == 2
    assert grew("sevbot_ack_seconds_count", kind="commands") == 3
    # Read from the database at scrape time: one SEV-1 is still open, the SEV-2 is resolved.
    assert value(after, "sevbot_open_incidents", severity="SEV-1") == 1
    assert value(after, "sevbot_open_incidents", severity="SEV-2") == 0
    assert value(after, "sevbot_outbox_pending") == 0  # everything recorded was sent


def test_the_outbox_backlog_is_read_from_the_database(bot: tuple[Harness, Any]) -> None:
    h, traveller = bot
    with session_scope(h.deps.session_factory) as session:
        outbox_service.enqueue(
            [Outgoing(key="metrics:1", kind="test", target=h.general, text="later")],
            session=session,
        )
    traveller.shift(timedelta(seconds=90))
    _, samples, _ = scrape(h.bot)
    assert value(samples, "sevbot_outbox_pending") == 1
    assert value(samples, "sevbot_outbox_oldest_seconds") == 90
    h.deps.outbox.deliver(["metrics:1"])
    _, samples, _ = scrape(h.bot)
    assert value(samples, "sevbot_outbox_pending") == 0
    assert value(samples, "sevbot_outbox_oldest_seconds") == 0


def test_open_incidents_agree_across_replicas(bot: tuple[Harness, Any]) -> None:
    h, _ = bot
    h.declare("declare sev3 Search is slow")
    # Another replica: its own process objects, the same database.
    second = assemble(h.deps.settings, install_features(build_deps(h.deps.settings)))
    try:
        assert value(scrape(second)[1], "sevbot_open_incidents", severity="SEV-3") == 1
    finally:
        second.close()


def test_slack_outcomes_ok_error_and_ratelimited(fake_slack: FakeSlack) -> None:
    settings = Settings(
        slack_bot_token=fake_slack.bot_token, slack_api_url=fake_slack.api_url, slack_timeout="5s"
    )
    client = make_web_client(settings)
    channel = fake_slack.add_channel("general")
    labels = {"vendor": "slack", "method": "chat.postMessage"}

    def count(outcome: str) -> float:
        found = metrics.PROCESS.get_sample_value(
            "sevbot_vendor_requests_total", {**labels, "outcome": outcome}
        )
        return found or 0.0

    start = {o: count(o) for o in metrics.VENDOR_OUTCOMES}
    client.chat_postMessage(channel=channel, text="hello")
    fake_slack.fail_method("chat.postMessage", "channel_not_found")
    with pytest.raises(Exception, match="channel_not_found"):
        client.chat_postMessage(channel=channel, text="hello")
    fake_slack.rate_limit_method("chat.postMessage", retry_after=0, times=10)
    with pytest.raises(Exception, match="ratelimited"):
        client.chat_postMessage(channel=channel, text="hello")
    assert {o: count(o) - start[o] for o in metrics.VENDOR_OUTCOMES} == {
        "ok": 1,
        "error": 1,
        "ratelimited": 1,  # one call: Slack's retry handler retried it inside
        "timeout": 0,
    }
    assert slack_outcome(TimeoutError("The read operation timed out")) == "timeout"


def test_notion_outcomes_count_each_attempt(fake_notion: FakeNotion) -> None:
    notion = NotionAdapter(
        fake_notion.token,
        base_url=fake_notion.base_url,
        requests_per_second=0,
        max_attempts=2,
        sleep=lambda _: None,
    )
    labels = {"vendor": "notion", "method": "users.me"}

    def count(outcome: str) -> float:
        found = metrics.PROCESS.get_sample_value(
            "sevbot_vendor_requests_total", {**labels, "outcome": outcome}
        )
        return found or 0.0

    start = {o: count(o) for o in metrics.VENDOR_OUTCOMES}
    fake_notion.inject(
        lambda r: r.path.endswith("/users/me"),
        lambda r: Response(
            429,
            {"object": "error", "status": 429, "code": "rate_limited", "message": "slow down"},
            {"Retry-After": "0"},
        ),
        times=1,
    )
    notion.whoami()
    fake_notion.inject(
        lambda r: r.path.endswith("/users/me"),
        lambda r: Response(
            401, {"object": "error", "status": 401, "code": "unauthorized", "message": "no"}
        ),
        times=1,
    )
    with pytest.raises(IntegrationError):
        notion.whoami()
    notion.close()
    assert {o: count(o) - start[o] for o in metrics.VENDOR_OUTCOMES} == {
        "ok": 1,
        "error": 1,
        "ratelimited": 1,
        "timeout": 0,
    }
