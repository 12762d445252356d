"""Declare N incidents over HTTP against a fake Slack with injected round-trip latency.

Sequential (default): prints the ack latency (median, p99) and the median time from ack to
"channel ready and announced" as a multiple of the round trip. Goals: ack p99 < 100 ms while
Slack is slow; ready within 3 round trips.

Burst (``--concurrency N``): N declares sent at the same moment from a separate client process
to the bot served by waitress with production's thread count; prints failures, ack p50/p99 and
the time from the burst until the last channel is ready and announced. Goal on SQLite and
PostgreSQL (``--database-url``): 0 failures, ack p99 <= 300 ms, every channel ready within 10 s.

    .venv/bin/python bench/declare.py [--count 30] [--latency-ms 200] [--socket-mode]
    .venv/bin/python bench/declare.py --concurrency 50 [--database-url postgresql://...]

With --socket-mode the same declares then run over Socket Mode (the fake Socket Mode server,
the default client) and both modes are printed side by side.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import SECRET, Server, fresh_database, median, percentile, start_bot  # noqa: E402
from bot.db import session_scope  # noqa: E402
from bot.fakes.slack import FakeSlack  # noqa: E402
from bot.fakes.slack_requests import SlackRequestSigner, send  # noqa: E402
from bot.fakes.slack_socket import FakeSocketMode  # noqa: E402
from bot.incidents.models import Incident  # noqa: E402
from bot.runtime import HTTP_THREADS, Bot, serve_socket_mode  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=30)
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument("--concurrency", type=int, default=0, help="declares sent at once")
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--socket-mode", action="store_true", help="also over Socket Mode")
    args = parser.parse_args()
    if args.concurrency:
        burst(args.concurrency, args.latency_ms / 1000, args.database_url)
        return
    rtt = args.latency_ms / 1000

    slack = FakeSlack(latency=rtt).start()
    alice = slack.add_user("alice", email="alice@example.com")
    slack.add_channel("incidents", members=[alice])
    general = slack.add_channel("general", members=[alice])
    bot, signer, _ = start_bot(slack)
    bot.deps.incidents.announcement_channel()  # resolved once per process, not per declare
    bot.deps.chat.bot_user_id()
    acks: list[float] = []
    ready: list[float] = []
    complete: list[float] = []
    with Server(bot.web) as server:
        for n in range(1, args.count + 1):
            signed = signer.slash_command(
                user_id=alice, channel_id=general, text=f"declare sev2 Bench incident {n}"
            )
            started = time.perf_counter()
            status, _ = send(server.url + "/slack/events", *signed)
            acked = time.perf_counter()
            assert status == 200, status
            acks.append(acked - started)
            announced_at = None
            while True:
                with session_scope(bot.deps.session_factory) as session:
                    row = session.query(Incident).filter_by(number=n).one_or_none()
                    usable = row is not None and bool(
                        row.members_invited and row.topic_set and row.kickoff_ts
                    )
                    announced = usable and row is not None and row.announcement_ts is not None
                    done = row is not None and row.setup_done_at is not None
                if announced and announced_at is None:
                    announced_at = time.perf_counter()
                if done:
                    break
                time.sleep(0.002)
            ready.append((announced_at or time.perf_counter()) - acked)
            complete.append(time.perf_counter() - acked)
    bot.close()
    slack.stop()
    print(f"declares: {args.count}, injected Slack round trip: {args.latency_ms:.0f} ms")
    ack_median, ack_p99 = median(acks) * 1000, percentile(acks, 99) * 1000
    print(f"ack latency: median {ack_median:.1f} ms, p99 {ack_p99:.1f} ms (goal: p99 < 100 ms)")
    print(
        "ack -> channel ready (members, topic, kickoff) and announced: "
        f"median {median(ready) * 1000:.0f} ms = {median(ready) / rtt:.2f} round trips (goal: <= 3)"
    )
    print(
        "ack -> setup complete (kickoff also pinned; the pin needs the kickoff's ts): "
        f"median {median(complete) * 1000:.0f} ms = {median(complete) / rtt:.2f} round trips"
    )
    if args.socket_mode:
        compare_socket_mode(args.count, rtt, http=(acks, ready))


def wait_ready(bot: Bot, number: int) -> float:
    """Wait until an incident's channel is ready and announced; return when (monotonic)."""
    while True:
        with session_scope(bot.deps.session_factory) as session:
            row = session.query(Incident).filter_by(number=number).one_or_none()
            usable = row is not None and row.members_invited and row.topic_set and row.kickoff_ts
            if usable and row is not None and row.announcement_ts is not None:
                return time.monotonic()
        time.sleep(0.002)


def declare_over_socket_mode(count: int, rtt: float) -> tuple[list[float], list[float]]:
    """Declare `count` incidents over Socket Mode; return ack latencies and ack -> ready."""
    slack = FakeSlack(latency=rtt).start()
    socket = FakeSocketMode(slack).start()
    alice = slack.add_user("alice", email="alice@example.com")
    slack.add_channel("incidents", members=[alice])
    general = slack.add_channel("general", members=[alice])
    bot, signer, _ = start_bot(slack, slack_app_token=socket.app_token)
    bot.deps.incidents.announcement_channel()
    bot.deps.chat.bot_user_id()
    connection = serve_socket_mode(bot)
    socket.wait_for_connections(1)
    acks: list[float] = []
    ready: list[float] = []
    for n in range(1, count + 1):
        signed = signer.slash_command(
            user_id=alice, channel_id=general, text=f"declare sev2 Bench incident {n}"
        )
        started = time.monotonic()
        ack = socket.wait_for_ack(socket.deliver(signed))
        acks.append(ack.at - started)
        ready.append(wait_ready(bot, n) - ack.at)
    connection.close()
    bot.close()
    socket.stop()
    slack.stop()
    return acks, ready


def compare_socket_mode(count: int, rtt: float, *, http: tuple[list[float], list[float]]) -> None:
    """Run the declares over Socket Mode and print both modes side by side."""
    acks, ready = declare_over_socket_mode(count, rtt)
    print(f"\n{'':<34}{'HTTP':>12}{'Socket Mode':>14}")
    rows = [
        ("ack latency median (ms)", median(http[0]), median(acks)),
        ("ack latency p99 (ms)", percentile(http[0], 99), percentile(acks, 99)),
        ("ack -> ready median (ms)", median(http[1]), median(ready)),
    ]
    for label, in_http, in_socket in rows:
        print(f"{label:<34}{in_http * 1000:>12.1f}{in_socket * 1000:>14.1f}")


def _fire(url: str, bodies: list[tuple[str, dict[str, str]]], out: Any) -> None:
    """Send every request at the same moment from threads of this (separate) process."""
    barrier = threading.Barrier(len(bodies))
    results: list[tuple[int, float]] = [(0, 0.0)] * len(bodies)

    def one(i: int) -> None:
        barrier.wait()
        started = time.perf_counter()
        try:
            status, _ = send(url, *bodies[i], timeout=30)
        except Exception:
            status = -1
        results[i] = (status, time.perf_counter() - started)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.send(results)


def _serve_slack(rtt: float, out: Any, stop: Any) -> None:
    """Run the fake Slack in its own process, as Slack is another machine in production."""
    slack = FakeSlack(latency=rtt).start()
    alice = slack.add_user("alice", email="alice@example.com")
    slack.add_channel("incidents", members=[alice])
    general = slack.add_channel("general", members=[alice])
    out.send((slack.api_url, slack.bot_token, slack.bot_user_id, alice, general))
    stop.wait()
    slack.stop()


class _RemoteSlack:
    """The handful of FakeSlack attributes start_bot needs, for a fake in another process."""

    def __init__(self, api_url: str, bot_token: str, bot_user_id: str) -> None:
        self.api_url, self.bot_token, self.bot_user_id = api_url, bot_token, bot_user_id


def burst(count: int, rtt: float, database_url: str | None) -> None:
    """Declare count incidents at once and report failures, ack latency and readiness."""
    fork = multiprocessing.get_context("fork")
    receive_slack, send_slack = fork.Pipe(duplex=False)
    stop_slack = fork.Event()
    slack_process = fork.Process(target=_serve_slack, args=(rtt, send_slack, stop_slack))
    slack_process.start()
    api_url, token, bot_user_id, alice, general = receive_slack.recv()
    slack = _RemoteSlack(api_url, token, bot_user_id)
    overrides = {"database_url": fresh_database(database_url)} if database_url else {}
    bot, _, _ = start_bot(slack, **overrides)  # type: ignore[arg-type]
    bot.deps.incidents.announcement_channel()
    bot.deps.chat.bot_user_id()
    signer = SlackRequestSigner(SECRET, bot_user_id=slack.bot_user_id)
    bodies = [
        signer.slash_command(user_id=alice, channel_id=general, text=f"declare sev3 Burst {n}")
        for n in range(count)
    ]
    with Server(bot.web, threads=HTTP_THREADS) as server:
        receive, send_end = fork.Pipe(duplex=False)
        client = fork.Process(target=_fire, args=(server.url + "/slack/events", bodies, send_end))
        started = time.perf_counter()
        client.start()
        results = receive.recv()
        client.join()
        deadline = started + 60
        last_ready = None
        while time.perf_counter() < deadline:
            with session_scope(bot.deps.session_factory) as session:
                rows = session.query(Incident).all()
                ready = sum(
                    1
                    for r in rows
                    if r.members_invited and r.topic_set and r.kickoff_ts and r.announcement_ts
                )
                numbers = sorted(r.number for r in rows)
            if ready == len(rows) and len(rows) >= sum(1 for s, _ in results if s == 200):
                last_ready = time.perf_counter() - started
                break
            time.sleep(0.01)
    bot.close()
    stop_slack.set()
    slack_process.join()
    failures = sum(1 for status, _ in results if status != 200)
    acks = [elapsed for status, elapsed in results if status == 200] or [float("nan")]
    backend = (database_url or "sqlite").split(":", 1)[0]
    print(f"burst of {count} declares on {backend}, injected Slack round trip {rtt * 1000:.0f} ms")
    print(f"failures: {failures} (goal: 0)")
    print(
        f"ack latency: p50 {median(acks) * 1000:.0f} ms, p99 {percentile(acks, 99) * 1000:.0f} ms"
        " (goal: p99 <= 300 ms)"
    )
    gaps = numbers != list(range(1, len(numbers) + 1))
    print(f"incidents recorded: {len(numbers)}, numbers sequential without gaps: {not gaps}")
    if last_ready is None:
        print("not every channel was ready within 60 s (goal: 10 s)")
    else:
        print(
            f"last channel ready and announced {last_ready:.2f} s after the burst (goal: <= 10 s)"
        )


if __name__ == "__main__":
    main()
