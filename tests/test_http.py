"""The HTTP server end to end (waitress): Slack signature checks, health and metrics."""

from __future__ import annotations

import dataclasses
import json
import urllib.error
import urllib.request

from bot.db import make_engine, session_scope
from bot.incidents.models import Incident
from bot.web import WebApp
from tests.harness import Harness, HttpServer, wait_until


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _count(h: Harness) -> int:
    with session_scope(h.deps.session_factory) as session:
        return session.query(Incident).count()


def test_unsigned_badly_signed_and_replayed_requests_get_401_and_change_nothing(
    harness: Harness,
) -> None:
    h = harness
    with HttpServer(h.bot) as server:
        cmd = dict(user_id=h.alice, channel_id=h.general, text="declare sev1 Fake")
        body, headers = h.signer.slash_command(**cmd)  # type: ignore[arg-type]
        unsigned = {k: v for k, v in headers.items() if not k.startswith("X-Slack")}
        assert server.post("/slack/events", (body, unsigned))[0] == 401
        bad = h.signer.slash_command(**cmd, bad_signature=True)  # type: ignore[arg-type]
        assert server.post("/slack/events", bad)[0] == 401
        stale = h.signer.slash_command(**cmd, stale=True)  # type: ignore[arg-type]
        assert server.post("/slack/events", stale)[0] == 401
        event = h.signer.message_event(channel=h.general, user=h.bob, text="x", bad_signature=True)
        assert server.post("/slack/events", event)[0] == 401
    assert _count(h) == 0
    assert h.slack.calls_to("conversations.create") == []


def test_signed_command_over_http_declares(harness: Harness) -> None:
    h = harness
    with HttpServer(h.bot) as server:
        status, text = server.post(
            "/slack/events",
            h.signer.slash_command(user_id=h.alice, channel_id=h.general, text="declare DB slow"),
        )
        assert status == 200 and "Declaring INC-1" in json.loads(text)["text"]
        wait_until(lambda: h.slack.calls_to("conversations.create"))
        status, text = server.post("/slack/events", h.signer.url_verification("abc123"))
        assert status == 200 and "abc123" in text


def test_healthz_reports_the_database(harness: Harness) -> None:
    h = harness
    with HttpServer(h.bot) as server:
        assert _get(server.url + "/healthz") == (200, "ok")
        status, metrics = _get(server.url + "/metrics")
        assert (
            status == 200 and 'sevbot_http_requests_total{route="/healthz",status="200"}' in metrics
        )
        assert _get(server.url + "/nope")[0] == 404
    broken = dataclasses.replace(
        h.deps, engine=make_engine("postgresql+psycopg://postgres@127.0.0.1:1/none")
    )
    down = dataclasses.replace(h.bot, web=WebApp(h.bot.app, broken))
    with HttpServer(down) as server:
        assert _get(server.url + "/healthz") == (503, "database unavailable")
