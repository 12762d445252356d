"""One bot per database served over real HTTP, with its log captured, for the hostile sweep."""

from __future__ import annotations

import io
import json
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import structlog
from sqlalchemy import Engine, text

from bot.db import session_scope
from bot.fakes.pagerduty import FakePagerDuty, sign
from bot.fakes.slack import FakeSlack
from bot.fakes.tls import LocalCA
from bot.incidents.models import Incident
from bot.logs import configure_logging
from bot.models import metadata
from tests.harness import Harness, HttpServer, start_harness, wait_until

PD_SECRET = "hostile-webhook-secret"
# What a bot post must never contain: a live broadcast, a mention of something that is not a
# user id (<@<!channel>>), or a link to a host other than the services we talk to.
LIVE_BROADCAST = re.compile(r"<!(channel|here|everyone|subteam)|<@[^UW]|<@[UW][A-Z0-9]*[^A-Z0-9|>]")
LINK = re.compile(r"<(https?://[^|>]*)")


@dataclass
class Sweep:
    """The running bot, its HTTP server, its fakes and everything it logged."""

    h: Harness
    server: HttpServer
    pd: FakePagerDuty
    log: io.StringIO
    open_channel: str = ""
    resolved_channel: str = ""
    resolved_incident_id: int = 0
    pd_incident: dict[str, Any] = field(default_factory=dict)

    def log_text(self) -> str:
        """Return everything logged so far."""
        return self.log.getvalue()

    def webhook(self, payload: Any, *, secret: str = PD_SECRET) -> tuple[bytes, dict[str, str]]:
        """Sign any JSON value (or raw bytes) as a PagerDuty V3 delivery."""
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return body, {
            "Content-Type": "application/json",
            "X-Webhook-Id": os.urandom(8).hex(),
            "X-PagerDuty-Signature": sign(body, [secret]),
        }


def snapshot(engine: Engine) -> dict[str, list[str]]:
    """Return every row of every table, as sorted text, to compare before and after a case."""
    rows: dict[str, list[str]] = {}
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            rows[table.name] = sorted(repr(tuple(r)) for r in conn.execute(table.select()))
    return rows


def outgoing(slack: FakeSlack) -> list[str]:
    """Return the text and blocks of every post, update, topic and view the bot sent."""
    sent = []
    for method in (
        "chat.postMessage",
        "chat.update",
        "chat.postEphemeral",
        "conversations.setTopic",
        "views.open",
        "views.publish",
    ):
        for call in slack.calls_to(method):
            sent.append(json.dumps({k: call.get(k) for k in ("text", "blocks", "topic", "view")}))
    return sent


def _empty(engine: Engine) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(t.name for t in metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture(scope="module")
def sweep(engine: Engine) -> Iterator[Sweep]:
    """Yield a bot with PagerDuty, an open and a resolved incident, served over HTTP."""
    _empty(engine)
    ca = LocalCA()
    pd = FakePagerDuty(ca=ca)
    pd.start()
    previous_ca = os.environ.get("SSL_CERT_FILE")
    os.environ["SSL_CERT_FILE"] = pd.ca_file
    checkout = pd.state.add_service("checkout")
    slack = FakeSlack()
    slack.start()
    buffer = io.StringIO()
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    configure_logging("INFO", "console")
    root.handlers[0].setStream(buffer)  # type: ignore[attr-defined]
    h = start_harness(
        slack,
        engine,
        pagerduty_api_token=pd.token,
        pagerduty_api_url=pd.base_url,
        pagerduty_from_email="alice@example.com",
        pagerduty_webhook_secret=PD_SECRET,
    )
    try:
        with HttpServer(h.bot) as server:
            state = Sweep(h, server, pd, buffer)
            state.open_channel = h.declare("declare sev2 Checkout is down")["channel"]
            resolved = h.declare("declare sev3 Search is slow")
            h.command("resolve fixed", channel=resolved["channel"])
            h.settle()
            state.resolved_channel = resolved["channel"]
            state.resolved_incident_id = resolved["id"]
            state.pd_incident = pd.state.add_incident(checkout, "Checkout 500s", priority="P1")
            yield state
    finally:
        h.bot.close()
        executor = h.deps.pagerduty_inbox
        if executor is not None:
            executor.shutdown(wait=True)
        slack.stop()
        pd.stop()
        ca.cleanup()
        root.handlers[:], root.level = saved_handlers, saved_level
        structlog.reset_defaults()
        if previous_ca is None:
            os.environ.pop("SSL_CERT_FILE", None)
        else:
            os.environ["SSL_CERT_FILE"] = previous_ca
        _empty(engine)


def incident_count(h: Harness) -> int:
    """Return how many incidents exist."""
    with session_scope(h.deps.session_factory) as session:
        return session.query(Incident).count()


__all__ = ["Sweep", "incident_count", "outgoing", "snapshot", "wait_until"]
