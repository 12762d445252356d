"""SIGKILL of `sevbot run` in the middle of a flow, then a restart: finished once, never twice.

Each test holds one vendor call in the fake and kills the process with SIGKILL while it waits.
Then the call is either dropped (it never reached the vendor: without the outbox the side
effect was lost) or let through (the vendor did it, but the bot never heard: without the
lookup by key it was done twice). The bot restarts, and every side effect exists exactly once.
"""

from __future__ import annotations

import signal
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.db import make_engine, make_session_factory, session_scope
from bot.fakes.notion import FakeNotion
from bot.fakes.pagerduty import FakePagerDuty
from bot.fakes.server import Request
from bot.fakes.slack import FakeSlack
from bot.fakes.tls import LocalCA
from bot.incidents.models import Incident
from bot.outbox.models import OutboxMessage
from bot.postmortems.setup import SCHEMA
from tests.harness import wait_until
from tests.test_process import BotProcess

PD_SECRET = "crash-webhook-secret"


def _posting(marker: str) -> Callable[[Request], bool]:
    """Match a chat.postMessage whose body carries marker (an outbox or setup key)."""
    return lambda r: r.path.endswith("/chat.postMessage") and marker.encode() in r.body


def _tagged(slack: FakeSlack, channel: str, fragment: str) -> list[dict[str, Any]]:
    """Return the messages of a channel whose outbox key contains fragment."""
    return [
        m
        for m in slack.messages(channel)
        if fragment in str(((m.get("metadata") or {}).get("event_payload") or {}).get("key", ""))
    ]


class Crashable:
    """A `sevbot run` process and the database it writes, for kill-and-restart tests."""

    def __init__(self, slack: FakeSlack, workdir: Path, **env: str) -> None:
        self.bot = BotProcess(slack, workdir, **env)
        self.slack = slack
        self.factory = make_session_factory(make_engine(self.bot.env["DATABASE_URL"]))

    def incidents(self) -> list[Incident]:
        with session_scope(self.factory) as session:
            return list(session.scalars(select(Incident).order_by(Incident.id)).all())

    def unsent(self) -> list[str]:
        with session_scope(self.factory) as session:
            return list(
                session.scalars(select(OutboxMessage.key).where(OutboxMessage.sent_at.is_(None)))
            )

    def declare(self, title: str) -> Incident:
        assert self.bot.command(f"declare sev2 {title}") == 200
        return wait_until(
            lambda: next((i for i in self.incidents() if i.setup_done_at is not None), None),
            timeout=20,
        )

    def kill_and_restart(self, stall: Any, fate: str) -> None:
        assert stall.arrived.wait(20), "the flow never reached the held call"
        self.bot.stop(signal.SIGKILL)
        stall.drop() if fate == "lost" else stall.release()
        self.bot.start()

    def settled(self) -> bool:
        return not self.unsent()


FATES = pytest.mark.parametrize("fate", ["lost", "landed"])


@pytest.fixture
def crashable(fake_slack: FakeSlack, tmp_path: Path) -> Iterator[Callable[..., Crashable]]:
    made: list[Crashable] = []

    def make(**env: str) -> Crashable:
        made.append(Crashable(fake_slack, tmp_path, **env))
        return made[-1]

    yield make
    for item in made:
        item.bot.kill_if_running()


@FATES
def test_killed_mid_declare_finishes_setup_with_one_announcement(
    crashable: Callable[..., Crashable], fake_slack: FakeSlack, fate: str
) -> None:
    c = crashable()
    c.bot.start()
    stall = fake_slack.hold(_posting("setup:announcement"))
    assert c.bot.command("declare sev2 Payments down") == 200
    c.kill_and_restart(stall, fate)
    [incident] = wait_until(
        lambda: [i for i in c.incidents() if i.setup_done_at is not None] or None, timeout=40
    )
    incidents_channel = fake_slack.channel("incidents")["id"]
    assert len(_tagged(fake_slack, incidents_channel, ":setup:announcement")) == 1
    assert len(_tagged(fake_slack, incident.channel_id or "", ":setup:kickoff")) == 1
    assert len(fake_slack.calls_to("conversations.create")) == 1
    assert incident.number == 1
    c.bot.stop()


@FATES
def test_killed_mid_update_posts_it_once(
    crashable: Callable[..., Crashable], fake_slack: FakeSlack, fate: str
) -> None:
    c = crashable()
    c.bot.start()
    incident = c.declare("Search is slow")
    stall = fake_slack.hold(_posting(":status-update:"))
    signed = c.bot.signer.slash_command(
        user_id=c.bot.alice, channel_id=incident.channel_id or "", text="update Rolled back"
    )
    from bot.fakes.slack_requests import send

    assert send(c.bot.url + "/slack/events", *signed)[0] == 200
    c.kill_and_restart(stall, fate)
    wait_until(c.settled, timeout=40, message="outbox drained after restart")
    assert len(_tagged(fake_slack, incident.channel_id or "", ":status-update:")) == 1
    incidents_channel = fake_slack.channel("incidents")["id"]
    assert len(_tagged(fake_slack, incidents_channel, ":status-update:")) == 1
    c.bot.stop()


@FATES
def test_killed_mid_nudge_sends_it_once(
    crashable: Callable[..., Crashable], fake_slack: FakeSlack, fate: str
) -> None:
    c = crashable(UPDATE_NUDGE_AFTER="4s")
    c.bot.start()
    stall = fake_slack.hold(_posting(":update:20"))  # the nudge key: incident:update:<due>
    incident = c.declare("Queue backlog")
    c.kill_and_restart(stall, fate)
    channel = incident.channel_id or ""
    wait_until(lambda: _tagged(fake_slack, channel, ":update:20") and c.settled(), timeout=40)
    keys = [
        m["metadata"]["event_payload"]["key"] for m in _tagged(fake_slack, channel, ":update:20")
    ]
    # The held nudge went out once. A slow restart may reach the next silence slot too: that
    # one is a different nudge (its own key), so it is no duplicate.
    assert len(keys) == len(set(keys)) and keys.count(min(keys)) == 1
    c.bot.stop()


@FATES
def test_killed_mid_webhook_offers_once(
    crashable: Callable[..., Crashable], fake_slack: FakeSlack, tmp_path: Path, fate: str
) -> None:
    ca = LocalCA()
    pd = FakePagerDuty(ca=ca)
    pd.start()
    try:
        user = pd.state.add_user("Alice Oncall", "alice@example.com")
        service = pd.state.add_service("checkout")
        policy = pd.state.policies[service["escalation_policy"]["id"]]
        pd.state.add_oncall(user, policy, 1)
        pd_incident = pd.state.add_incident(service, "Checkout 500s", urgency="high")
        c = crashable(
            SSL_CERT_FILE=pd.ca_file,
            PAGERDUTY_API_TOKEN=pd.token,
            PAGERDUTY_API_URL=pd.base_url,
            PAGERDUTY_FROM_EMAIL="alice@example.com",
            PAGERDUTY_WEBHOOK_SECRET=PD_SECRET,
        )
        c.bot.start()
        stall = fake_slack.hold(_posting("pagerduty:offer:"))
        body, headers = pd.webhook("incident.triggered", pd_incident["id"], [PD_SECRET])
        request = urllib.request.Request(
            c.bot.url + "/pagerduty/webhook", data=body, headers=headers, method="POST"
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 202
        c.kill_and_restart(stall, fate)
        wait_until(c.settled, timeout=40, message="offer delivered after restart")
        incidents_channel = fake_slack.channel("incidents")["id"]
        assert len(_tagged(fake_slack, incidents_channel, "pagerduty:offer:")) == 1
        c.bot.stop()
    finally:
        pd.stop()
        ca.cleanup()


@FATES
def test_killed_mid_export_files_one_page(
    crashable: Callable[..., Crashable], fake_slack: FakeSlack, fate: str
) -> None:
    notion = FakeNotion()
    notion.start()
    try:
        database = notion.add_database(SCHEMA)
        c = crashable(
            NOTION_TOKEN=notion.token,
            NOTION_API_URL=notion.base_url,
            NOTION_POSTMORTEM_DATABASE_ID=database,
        )
        c.bot.start()
        incident = c.declare("Cache stampede")
        stall = notion.hold(lambda r: r.method == "POST" and r.path.endswith("/v1/pages"))
        signed = c.bot.signer.slash_command(
            user_id=c.bot.alice, channel_id=incident.channel_id or "", text="resolve Fixed"
        )
        from bot.fakes.slack_requests import send

        assert send(c.bot.url + "/slack/events", *signed)[0] == 200
        c.kill_and_restart(stall, fate)
        source = notion.data_source_of(database)
        wait_until(
            lambda: any(
                "notion" in str(m.get("text", "")).lower()
                for m in fake_slack.messages(incident.channel_id or "")
            ),
            timeout=60,
            message="postmortem link posted after restart",
        )
        assert len(notion.pages_in(source)) == 1
        c.bot.stop()
    finally:
        notion.stop()
