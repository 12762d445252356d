"""Sustained signed `message` events into incident channels, through the HTTP server.

Prints events/s and p99 latency for the bot and, in the same run on the same machine, for a
bare Bolt app that does nothing. Goals: >= 500 events/s on SQLite in one process, and >= 70%
of the bare app's rate.

    .venv/bin/python bench/events.py [--events 3000] [--clients 8] [--incidents 5]
"""

from __future__ import annotations

import argparse
import http.client
import logging
import multiprocessing
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from slack_bolt import App  # noqa: E402
from slack_bolt.adapter.wsgi import SlackRequestHandler  # noqa: E402
from slack_bolt.authorization import AuthorizeResult  # noqa: E402

from bench.common import SECRET, Server, percentile, start_bot  # noqa: E402
from bot.db import session_scope  # noqa: E402
from bot.fakes.slack import FakeSlack  # noqa: E402
from bot.fakes.slack_requests import to_bolt_request  # noqa: E402
from bot.incidents.models import ChannelMessage  # noqa: E402


def bare_app() -> Any:
    """A Bolt app with the same settings that acknowledges every message and does nothing."""
    app = App(
        signing_secret=SECRET,
        authorize=lambda: AuthorizeResult(
            enterprise_id=None,
            team_id="T0001",
            bot_user_id="U0BOT",
            bot_id="B0BOT",
            bot_token="xoxb-bench",
        ),
        process_before_response=True,
        token_verification_enabled=False,
    )

    @app.event("message")
    def ignore() -> None:
        return None

    handler = SlackRequestHandler(app, path="/slack/events")
    return handler


def _client(url: str, chunk: list[tuple[str, dict[str, str]]], go: Any, results: Any) -> None:
    """One load-generating process: keep-alive POSTs of pre-signed requests."""
    target = urlparse(url)
    conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
    latencies = []
    go.wait()
    for body, headers in chunk:
        started = time.perf_counter()
        conn.request("POST", "/slack/events", body=body.encode(), headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"HTTP {response.status}")
        latencies.append(time.perf_counter() - started)
    conn.close()
    results.put(latencies)


def blast(
    url: str, requests: list[tuple[str, dict[str, str]]], clients: int
) -> tuple[float, list[float]]:
    """Send the requests from separate processes (as Slack would, from elsewhere).

    The load generator must not share the server's interpreter lock, or it slows the server.
    Returns (seconds, latencies).
    """
    ctx = multiprocessing.get_context("spawn")
    go, results = ctx.Event(), ctx.Queue()
    workers = [
        ctx.Process(target=_client, args=(url, requests[i::clients], go, results))
        for i in range(clients)
    ]
    for worker in workers:
        worker.start()
    time.sleep(1.0)  # let the processes start and connect
    started = time.perf_counter()
    go.set()
    latencies: list[float] = []
    for _ in workers:
        latencies.extend(results.get(timeout=300))
    elapsed = time.perf_counter() - started
    for worker in workers:
        worker.join()
    return elapsed, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--incidents", type=int, default=5)
    args = parser.parse_args()
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)

    slack = FakeSlack().start()
    people = [slack.add_user(f"user{i}", email=f"user{i}@example.com") for i in range(10)]
    slack.add_channel("incidents", members=people[:1])
    general = slack.add_channel("general", members=people)
    bot, signer, _ = start_bot(slack, log_level="WARNING")
    channels = []
    for n in range(1, args.incidents + 1):
        command = signer.slash_command(user_id=people[0], channel_id=general, text=f"declare L{n}")
        bot.app.dispatch(to_bolt_request(*command))
    while len(channels) < args.incidents:
        time.sleep(0.05)
        channels = [c["id"] for c in slack.channels() if c["name"].startswith("inc-")]

    def signed_events(count: int) -> list[tuple[str, dict[str, str]]]:
        base = time.time()
        return [
            signer.message_event(
                channel=channels[i % len(channels)],
                user=people[i % len(people)],
                text="status?",
                ts=f"{base + i / 1000:.6f}",
            )
            for i in range(count)
        ]

    results = {}
    with Server(bare_app(), threads=8) as server:
        blast(server.url, signed_events(200), args.clients)  # warm-up
        results["bare Bolt app"] = blast(server.url, signed_events(args.events), args.clients)
    with Server(bot.web, threads=8) as server:
        blast(server.url, signed_events(200), args.clients)  # warm-up
        results["sevbot"] = blast(server.url, signed_events(args.events), args.clients)
    bot.deps.incidents.activity.flush()
    with session_scope(bot.deps.session_factory) as session:
        recorded = session.query(ChannelMessage).count()
    bot.close()
    slack.stop()

    print(
        f"{args.events} signed message events from {args.clients} client processes (keep-alive), "
        "SQLite, waitress with 8 threads"
    )
    rates = {}
    for name, (seconds, latencies) in results.items():
        rates[name] = len(latencies) / seconds
        p50, p99 = percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000
        print(f"{name:>14}: {rates[name]:7.0f} events/s, p50 {p50:5.1f} ms, p99 {p99:5.1f} ms")
    print(f"sevbot / bare: {rates['sevbot'] / rates['bare Bolt app'] * 100:.0f}% (goal: >= 70%)")
    print(f"human messages recorded: {recorded} (expected {args.events + 200})")


if __name__ == "__main__":
    main()
