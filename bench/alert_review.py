"""Benchmark: an alert review of 5,000 incidents and 20,000 alerts, fake PagerDuty at 100 ms.

Prints the requests made (list pages only: no per-incident calls) and the wall time.

    .venv/bin/python bench/alert_review.py [--incidents 5000] [--alerts 20000] [--latency 0.1]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.db import make_engine, make_session_factory, migrate  # noqa: E402
from bot.fakes.pagerduty import FakePagerDuty  # noqa: E402
from bot.integrations.pagerduty import make_pagerduty  # noqa: E402
from bot.logs import configure_logging  # noqa: E402
from bot.pagerduty.alert_review import generate  # noqa: E402
from bot.pagerduty.review import render_json  # noqa: E402
from bot.settings import Settings  # noqa: E402


def main() -> None:
    """Seed the fake, run one review, print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=5000)
    parser.add_argument("--alerts", type=int, default=20000)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--days", type=int, default=14)
    args = parser.parse_args()

    configure_logging("WARNING", "console")
    fake = FakePagerDuty(latency=args.latency)
    fake.start()
    os.environ["SSL_CERT_FILE"] = fake.ca_file
    now = datetime.now(UTC)
    span = timedelta(days=args.days)
    started = time.perf_counter()
    fake.state.generate(
        incidents=args.incidents,
        alerts=args.alerts,
        since=now - span,
        until=now - timedelta(hours=2),
    )
    print(
        f"seeded {args.incidents} incidents / {args.alerts} alerts "
        f"in {time.perf_counter() - started:.1f}s"
    )

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.db")
        migrate(engine)
        settings = Settings(
            pagerduty_api_token=fake.token,
            pagerduty_api_url=fake.base_url,
            database_url=f"sqlite:///{tmp}/bench.db",
        )
        adapter = make_pagerduty(settings)
        assert adapter is not None
        started = time.perf_counter()
        review, _ = generate(
            adapter, settings=settings, session_factory=make_session_factory(engine), span=span
        )
        wall = time.perf_counter() - started
        engine.dispose()
    data = render_json(review)
    calls = fake.calls()
    by_path = Counter(c.path for c in calls)
    per_incident = sum(n for path, n in by_path.items() if path.startswith("/incidents/"))
    print(
        f"review: {data['current']['incidents']} incidents, {data['current']['alerts']} alerts, "
        f"{len(data['current']['ranking'])} high-urgency groups, {len(data['picks'])} picks"
    )
    print(
        f"requests: {len(calls)} total, by path {dict(by_path)}, per-incident calls: {per_incident}"
    )
    print(
        f"wall time: {wall:.1f}s at {args.latency * 1000:.0f} ms latency "
        f"({wall / max(len(calls), 1) * 1000:.0f} ms per request)"
    )
    fake.stop()


if __name__ == "__main__":
    main()
