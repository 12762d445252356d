"""Two `sevbot web` and two `sevbot worker` on one PostgreSQL database, the same traffic sent
to both webs: every side effect happens exactly once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.db import make_engine, make_session_factory, session_scope
from bot.fakes.pagerduty import FakePagerDuty
from bot.fakes.slack import FakeSlack
from bot.fakes.slack_requests import SlackRequestSigner, send
from bot.fakes.tls import LocalCA
from bot.incidents.models import Incident, TimelineEntry
from bot.outbox.models import OutboxMessage
from tests.conftest import _fresh_postgres_database, _postgres_url
from tests.harness import wait_until
from tests.test_process import _free_port

SECRET = "replica-signing-secret"
PD_SECRET = "replica-webhook-secret"


class Replicas:
    """The four processes, their fakes and the database they share."""

    def __init__(self, slack: FakeSlack, pd: FakePagerDuty, database_url: str, logs: Path) -> None:
        self.slack, self.pd, self.logs = slack, pd, logs
        self.factory = make_session_factory(make_engine(database_url))
        self.signer = SlackRequestSigner(SECRET, bot_user_id=slack.bot_user_id)
        self.ports = [_free_port(), _free_port()]
        self.env = {
            **os.environ,
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": slack.api_url,
            "DATABASE_URL": database_url,
            "UPDATE_NUDGE_AFTER": "4s",
            "SSL_CERT_FILE": pd.ca_file,
            "PAGERDUTY_API_TOKEN": pd.token,
            "PAGERDUTY_API_URL": pd.base_url,
            "PAGERDUTY_FROM_EMAIL": "alice@example.com",
            "PAGERDUTY_WEBHOOK_SECRET": PD_SECRET,
        }
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        """Start all four at once (they migrate the empty database in turn)."""
        roles = [("web", self.ports[0]), ("web", self.ports[1]), ("worker", 0), ("worker", 0)]
        for index, (role, port) in enumerate(roles):
            log = (self.logs / f"{role}-{index}.log").open("wb")
            self.processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "bot", role],
                    env={**self.env, "PORT": str(port or _free_port())},
                    cwd=self.logs,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        for port in self.ports:
            wait_until(lambda p=port: self._healthy(p), timeout=60, message=f"web on {port}")
        assert all(p.poll() is None for p in self.processes), "a replica exited at start"

    def _healthy(self, port: int) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                return r.status == 200
        except OSError:
            return False

    def both(self, path: str, body: str | bytes, headers: dict[str, str]) -> list[int]:
        """Send the same request to both webs."""
        statuses = []
        for port in self.ports:
            url = f"http://127.0.0.1:{port}{path}"
            if isinstance(body, bytes):
                request = urllib.request.Request(url, data=body, headers=headers, method="POST")
                with urllib.request.urlopen(request, timeout=10) as response:
                    statuses.append(response.status)
            else:
                statuses.append(send(url, body, headers)[0])
        return statuses

    def command(self, user: str, channel: str, text: str) -> None:
        signed = self.signer.slash_command(user_id=user, channel_id=channel, text=text)
        assert self.both("/slack/events", *signed) == [200, 200]

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()

    def incidents(self) -> list[Incident]:
        with session_scope(self.factory) as session:
            return list(session.scalars(select(Incident).order_by(Incident.number)))

    def settled(self) -> bool:
        with session_scope(self.factory) as session:
            unsent = session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.sent_at.is_(None))
            )
            unsynced = session.scalar(
                select(func.count())
                .select_from(Incident)
                .where(
                    Incident.setup_done_at.is_(None)
                    | (Incident.synced_revision < Incident.revision)
                )
            )
        return unsent == 0 and unsynced == 0


@pytest.fixture
def replicas(fake_slack: FakeSlack, tmp_path: Path) -> Iterator[Replicas]:
    try:
        database_url = _fresh_postgres_database(_postgres_url())
    except Exception as exc:  # noqa: BLE001 - the message says what to fix
        pytest.fail(f"this test needs PostgreSQL at {_postgres_url()}: {exc}")
    ca = LocalCA()
    pd = FakePagerDuty(ca=ca)
    pd.start()
    running = Replicas(fake_slack, pd, database_url, tmp_path)
    try:
        yield running
    finally:
        running.stop()
        pd.stop()
        ca.cleanup()


def _keys(slack: FakeSlack) -> Counter[str]:
    """Count every message carrying an outbox or setup key, in every channel and DM."""
    found: Counter[str] = Counter()
    for channel in slack.channels():
        for message in slack.messages(channel["id"]):
            key = ((message.get("metadata") or {}).get("event_payload") or {}).get("key")
            if key:
                found[str(key)] += 1
    return found


def test_two_webs_and_two_workers_do_everything_exactly_once(
    replicas: Replicas, fake_slack: FakeSlack
) -> None:
    r = replicas
    alice = fake_slack.add_user("alice", email="alice@example.com")
    carol = fake_slack.add_user("carol", email="carol@example.com")
    incidents_channel = fake_slack.add_channel("incidents", members=[alice])
    general = fake_slack.add_channel("general", members=[alice, carol])
    service = r.pd.state.add_service("checkout")
    policy = r.pd.state.policies[service["escalation_policy"]["id"]]
    r.pd.state.add_oncall(r.pd.state.add_user("Alice", "alice@example.com"), policy, 1)
    r.start()

    for n in range(3):
        r.command(alice, general, f"declare sev2 Replica outage {n}")
    wait_until(
        lambda: len([i for i in r.incidents() if i.setup_done_at]) == 3,
        timeout=60,
        message="three incidents set up",
    )
    assert len(r.incidents()) == 3
    for incident in r.incidents():
        channel = incident.channel_id or ""
        r.command(alice, channel, "update Failing over to the replica")
        r.command(alice, channel, "sev 1")
        r.command(alice, channel, f"role comms <@{carol}>")
        message = r.signer.message_event(channel=channel, user=alice, text="looking")
        assert r.both("/slack/events", *message) == [200, 200]
    pd_incident = r.pd.state.add_incident(service, "Checkout 500s", urgency="high")
    body, headers = r.pd.webhook("incident.triggered", pd_incident["id"], [PD_SECRET])
    assert r.both("/pagerduty/webhook", body, headers) == [202, 202]
    time.sleep(6)  # quiet channels: the update nudge falls due while both workers poll
    for incident in r.incidents():
        r.command(alice, incident.channel_id or "", "resolve Replica promoted")
    wait_until(r.settled, timeout=60, message="outbox drained and every incident synced")

    incidents = r.incidents()
    assert [i.number for i in incidents] == [1, 2, 3]
    assert all(i.status == "resolved" and i.severity == "SEV-1" for i in incidents)
    names = [c["name"] for c in fake_slack.channels() if str(c["name"]).startswith("inc-")]
    assert len(names) == 3
    keys = _keys(fake_slack)
    assert [k for k, n in keys.items() if n > 1] == []  # nothing posted twice
    for incident in incidents:
        mine = [k for k in keys if k.startswith(f"{incident.id}:")]
        assert sum(":status-update:" in k for k in mine) == 2  # channel + announcement thread
        assert sum(k.endswith(":notice") for k in mine) == 3  # severity, role, resolve
        assert sum(k.endswith(":summary") for k in mine) == 1
        assert sum(k.endswith(":invite") for k in mine) == 1
        assert sum(":update:20" in k for k in mine) >= 1  # the silence nudge, once per due time
        assert carol in fake_slack.channel(incident.channel_id or "")["members"]
        with session_scope(r.factory) as session:
            kinds = Counter(
                session.scalars(
                    select(TimelineEntry.kind).where(TimelineEntry.incident_id == incident.id)
                )
            )
        assert kinds["update"] == 1 and kinds["severity"] == 1 and kinds["role"] == 1
        assert kinds["resolved"] == 1 and kinds["declared"] == 1
    announcements = [k for k in _keys(fake_slack) if k.endswith(":setup:announcement")]
    assert len(announcements) == 3
    offers = [
        m
        for m in fake_slack.messages(incidents_channel)
        if "pagerduty:offer:" in str((m.get("metadata") or {}).get("event_payload"))
    ]
    assert len(offers) == 1
    assert len(fake_slack.calls_to("conversations.create")) == 3
    assert all(p.poll() is None for p in r.processes), "a replica died"
