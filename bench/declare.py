"""Declare N incidents over HTTP against a fake Slack with injected round-trip latency.

Prints the ack latency (median, p99) and the median time from ack to "channel ready and
announced" as a multiple of the round trip. Goals: ack p99 < 100 ms while Slack is slow;
ready within 3 round trips.

    .venv/bin/python bench/declare.py [--count 30] [--latency-ms 200]
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
from bot.incidents.models import Incident  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=30)
    parser.add_argument("--latency-ms", type=float, default=200.0)
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


if __name__ == "__main__":
    main()
