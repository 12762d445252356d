"""Hostile input through the real HTTP server: no 5xx, no traceback, clear refusals, data intact.

Each case of tests/hostile/cases.py is sent to the bot's WSGI app served by waitress, on SQLite
and on PostgreSQL. Across the sweep: nothing answers 5xx or logs a traceback; a refusal is a 4xx
with a reason or an ephemeral message saying what was wrong; a refused request changes no row;
a refused unsigned body never reaches the log; and nothing the bot posts (messages, topics,
views, ephemeral replies) carries a live broadcast, a mention of a non-id or a foreign link.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from urllib.parse import urlparse

import pytest

from tests.hostile.cases import CASES, Case
from tests.hostile.conftest import LINK, LIVE_BROADCAST, Sweep, outgoing, snapshot

ALLOWED_LINK_HOSTS = ("slack.com", "pagerduty.com", "127.0.0.1")


def _send(sweep: Sweep, case: Case) -> tuple[int, str]:
    method, path, body, headers = case.build(sweep)
    request = urllib.request.Request(
        sweep.server.url + path, data=body or None, headers=headers, method=method
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


def _settle(sweep: Sweep) -> None:
    sweep.h.settle()
    inbox = sweep.h.deps.pagerduty_inbox
    if inbox is not None:  # one worker, in order: this runs after any queued inbox run
        inbox.submit(lambda: None).result(timeout=30)
    sweep.h.settle()


def _foreign_links(text: str) -> list[str]:
    hosts = [urlparse(url).hostname or "" for url in LINK.findall(text)]
    return [h for h in hosts if not h.endswith(ALLOWED_LINK_HOSTS)]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_request(sweep: Sweep, case: Case) -> None:
    engine = sweep.h.deps.engine
    before_rows = snapshot(engine)
    before_posts = len(outgoing(sweep.h.slack))
    log_mark = len(sweep.log_text())

    status, answer = _send(sweep, case)
    _settle(sweep)

    assert status < 500, answer
    assert status == case.status, answer
    if status >= 400:
        assert answer.strip(), "a refusal must say why"
    if case.says is not None:
        reply = answer
        if status == 200 and answer.startswith("{"):
            body = json.loads(answer)
            reply = body.get("text") or json.dumps(body.get("errors") or body)
            if "text" in body and not case.changes:
                assert body.get("response_type", "ephemeral") == "ephemeral"
        assert case.says.lower() in reply.lower(), reply
    if not case.changes:
        assert snapshot(engine) == before_rows, "a refused or read-only request changed data"
    logged = sweep.log_text()[log_mark:]
    assert "Traceback" not in logged, logged
    if case.secret_in_body:
        assert case.secret_in_body not in logged, logged
    assert not LIVE_BROADCAST.search(answer), answer
    for post in outgoing(sweep.h.slack)[before_posts:]:
        assert not LIVE_BROADCAST.search(post), post
        assert _foreign_links(post) == [], post


def test_the_sweep_is_big_enough() -> None:
    assert len(CASES) >= 120


def test_the_servers_own_count_shows_no_5xx_after_the_sweep(sweep: Sweep) -> None:
    with urllib.request.urlopen(sweep.server.url + "/metrics", timeout=10) as response:
        metrics = response.read().decode()
    counted = [line for line in metrics.splitlines() if line.startswith("sevbot_http_requests_")]
    assert len(counted) > 5  # the sweep's requests were counted
    assert not [line for line in counted if 'status="5' in line], counted
