"""Declare N incidents over HTTP against a fake Slack with injected round-trip latency.

Prints the ack latency (median, p99) and the median time from ack to "channel ready and
announced" as a multiple of the round trip. Goals: ack p99 < 100 ms while Slack is slow;
ready within 3 round trips.

    .venv/bin/python bench/declare.py [--count 30] [--latency-ms 200] [--socket-mode]

With --socket-mode the same declares then run over Socket Mode (the fake Socket Mode server,
the default client) and both modes are printed side by side.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import Server, median, percentile, start_bot  # noqa: E402
from bot.db import session_scope  # noqa: E402
from bot.fakes.slack import FakeSlack  # noqa: E402
from bot.fakes.slack_requests import send  # noqa: E402
from bot.fakes.slack_socket import FakeSocketMode  # noqa: E402
from bot.incidents.models import Incident  # noqa: E402
from bot.runtime import Bot, serve_socket_mode  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=30)
    parser.add_argument("--latency-ms", type=float, default=200.0)
    parser.add_argument("--socket-mode", action="store_true", help="also over Socket Mode")
    args = parser.parse_args()
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


if __name__ == "__main__":
    main()
