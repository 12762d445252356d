"""Benchmark: signed PagerDuty V3 webhooks into POST /pagerduty/webhook over HTTP.

Prints the endpoint's throughput and latency (it stores and answers 202 before any processing),
then how long the inbox takes to process everything (one Declare offer per incident).

    .venv/bin/python bench/pagerduty_webhooks.py [--deliveries 2000] [--clients 8]
"""

from __future__ import annotations

import argparse
import http.client
import logging
import os
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select  # noqa: E402

from bench.common import Server, median, percentile, start_bot  # noqa: E402
from bot.db import session_scope  # noqa: E402
from bot.fakes.pagerduty import FakePagerDuty  # noqa: E402
from bot.fakes.slack import FakeSlack  # noqa: E402
from bot.logs import configure_logging  # noqa: E402
from bot.pagerduty.models import PagerDutyDelivery  # noqa: E402

SECRETS = ["bench-webhook-secret"]


def main() -> None:
    """Send the deliveries from several clients and print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    configure_logging("WARNING", "console")
    logging.disable(logging.INFO)

    slack = FakeSlack()
    slack.start()
    slack.add_channel("incidents")
    pd = FakePagerDuty()
    pd.start()
    os.environ["SSL_CERT_FILE"] = pd.ca_file
    bot, _, _ = start_bot(
        slack,
        pagerduty_api_token=pd.token,
        pagerduty_api_url=pd.base_url,
        pagerduty_webhook_secret=",".join(SECRETS),
        log_level="WARNING",
    )
    service = pd.state.add_service("checkout")
    deliveries = []
    for i in range(args.deliveries):
        incident = pd.state.add_incident(service, f"Checkout 5xx #{i}", index=False)
        deliveries.append(pd.webhook("incident.triggered", incident["id"], SECRETS))
    latencies: list[float] = []
    lock = threading.Lock()

    with Server(bot.web, threads=args.clients) as server:
        target = urlparse(server.url)

        def client(batch: list[tuple[bytes, dict[str, str]]]) -> None:
            conn = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
            mine = []
            for body, headers in batch:
                started = time.perf_counter()
                conn.request("POST", "/pagerduty/webhook", body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                assert response.status == 202, response.status
                mine.append(time.perf_counter() - started)
            with lock:
                latencies.extend(mine)

        started = time.perf_counter()
        threads = [
            threading.Thread(target=client, args=(deliveries[i :: args.clients],))
            for i in range(args.clients)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        sent = time.perf_counter() - started

        def done() -> int:
            with session_scope(bot.deps.session_factory) as session:
                return int(
                    session.scalar(
                        select(func.count())
                        .select_from(PagerDutyDelivery)
                        .where(PagerDutyDelivery.status == "done")
                    )
                    or 0
                )

        while done() < args.deliveries and time.perf_counter() - started < 600:
            time.sleep(0.1)
        drained = time.perf_counter() - started
    ms = [x * 1000 for x in latencies]
    print(
        f"{args.deliveries} deliveries from {args.clients} clients in {sent:.2f}s: "
        f"{args.deliveries / sent:.0f} deliveries/s"
    )
    print(
        f"endpoint latency: p50 {median(ms):.1f} ms, p99 {percentile(ms, 99):.1f} ms, "
        f"max {max(ms):.1f} ms"
    )
    offers = len(slack.messages("incidents"))
    print(
        f"inbox drained after {drained:.2f}s: {done()} processed, {offers} offers posted "
        f"({done() / drained:.0f} deliveries/s end to end)"
    )
    bot.close()
    slack.stop()
    pd.stop()


if __name__ == "__main__":
    main()
