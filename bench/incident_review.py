"""Benchmark: the incident review of 10,000 incidents, on SQLite and PostgreSQL.

Seeds two 30-day periods with incidents, their timelines, channel messages, PagerDuty links and
postmortems, then prints the queries the review made and the time to read, compute, render
and draw it (best of --repeat runs).

    .venv/bin/python bench/incident_review.py [--incidents 10000] [--repeat 3]
        [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/test] [--no-pg]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine, event, insert, make_url, text  # noqa: E402

from bot.db import make_engine, make_session_factory, migrate  # noqa: E402
from bot.incidents.models import ChannelMessage, Incident, TimelineEntry  # noqa: E402
from bot.pagerduty.models import PagerDutyLink  # noqa: E402
from bot.postmortems.models import Postmortem  # noqa: E402
from bot.reviews.chart import render_chart  # noqa: E402
from bot.reviews.jobs import generate  # noqa: E402
from bot.reviews.render import render_csv, render_text  # noqa: E402
from bot.settings import Settings  # noqa: E402

UNTIL = datetime(2026, 11, 2, 10, tzinfo=UTC)
SPAN = timedelta(days=30)
SERVICES = ["checkout", "search", "payments", "auth", "queue", "cdn", "email", "billing"]


def seed(engine: Engine, count: int) -> int:
    """Insert `count` incidents over both periods, with their related rows; return row total."""
    rng = random.Random(13)
    incidents, entries, messages, links, postmortems = [], [], [], [], []
    start = UNTIL - 2 * SPAN
    for n in range(1, count + 1):
        declared = start + timedelta(seconds=rng.uniform(0, 2 * SPAN.total_seconds()))
        resolved = declared + timedelta(minutes=rng.lognormvariate(4.5, 1.2))
        is_resolved = rng.random() < 0.9
        commander = f"U{rng.randint(1, 40):04d}"
        incidents.append(
            {
                "id": n,
                "number": n,
                "title": f"Incident {n}",
                "description": "",
                "severity": f"SEV-{rng.choice([1, 2, 2, 3, 3, 3, 4, 5])}",
                "status": "resolved" if is_resolved else "investigating",
                "reporter_id": commander,
                "commander_id": commander,
                "invitees": [],
                "pending_links": {},
                "declared_at": declared,
                "resolved_at": resolved if is_resolved else None,
                "request_key": f"bench:{n}",
                "is_drill": rng.random() < 0.03,
            }
        )
        mitigated = declared + (resolved - declared) * rng.uniform(0.3, 0.9)
        entries.append({"incident_id": n, "kind": "declared", "occurred_at": declared})
        entries.append(
            {
                "incident_id": n,
                "kind": "status",
                "occurred_at": mitigated,
                "data": {"from": "identified", "to": "monitoring"},
            }
        )
        for k in range(3):
            entries.append(
                {
                    "incident_id": n,
                    "kind": "update",
                    "actor_id": commander if k else "UOTHER",
                    "occurred_at": declared + timedelta(minutes=rng.uniform(1, 90)),
                }
            )
        for k in range(10):
            posted = declared + timedelta(minutes=rng.uniform(0, 120))
            user = commander if k % 3 == 0 else f"U{rng.randint(41, 99):04d}"
            messages.append(
                {"incident_id": n, "ts": f"{n}.{k:06d}", "user_id": user, "posted_at": posted}
            )
        if rng.random() < 0.5:
            triggered = declared - timedelta(minutes=rng.uniform(0, 15))
            links.append(
                {
                    "incident_id": n,
                    "pd_incident_id": f"P{n:07d}",
                    "service_name": rng.choice(SERVICES),
                }
            )
            entries.append(
                {"incident_id": n, "kind": "pagerduty_trigger", "occurred_at": triggered}
            )
            entries.append(
                {
                    "incident_id": n,
                    "kind": "pagerduty_acknowledge",
                    "occurred_at": triggered + timedelta(minutes=rng.uniform(1, 20)),
                }
            )
        if is_resolved:
            postmortems.append(
                {
                    "incident_id": n,
                    "status": "Complete",
                    "meeting_booked_at": resolved + timedelta(hours=rng.uniform(1, 60)),
                    "completed_at": resolved + timedelta(days=rng.uniform(1, 10)),
                }
            )
    for entry in entries:
        entry.setdefault("text", "")
        entry.setdefault("data", {})
        entry.setdefault("actor_id", None)
    with engine.begin() as conn:
        conn.execute(insert(Incident), incidents)
        conn.execute(insert(TimelineEntry), entries)
        conn.execute(insert(ChannelMessage), messages)
        conn.execute(insert(PagerDutyLink), links)
        conn.execute(insert(Postmortem), postmortems)
        if engine.dialect.name == "postgresql":
            conn.execute(text("ANALYZE"))
    return len(incidents) + len(entries) + len(messages) + len(links) + len(postmortems)


def measure(name: str, engine: Engine, count: int, repeat: int) -> None:
    """Seed, then time the review on one database and print the figures."""
    migrate(engine)
    started = time.perf_counter()
    rows = seed(engine, count)
    print(
        f"[{name}] seeded {count} incidents ({rows} rows) in {time.perf_counter() - started:.1f}s"
    )
    factory = make_session_factory(engine)
    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        statements.append(statement)

    best, best_cpu = float("inf"), float("inf")
    review = None
    for _ in range(repeat):
        statements.clear()
        event.listen(engine, "before_cursor_execute", record)
        started, cpu = time.perf_counter(), time.process_time()
        review = generate(session_factory=factory, settings=Settings(), until=UNTIL, span=SPAN)
        best = min(best, time.perf_counter() - started)
        best_cpu = min(best_cpu, time.process_time() - cpu)
        event.remove(engine, "before_cursor_execute", record)
    assert review is not None
    started = time.perf_counter()
    render_text(review)
    render_csv(review)
    rendered = time.perf_counter() - started
    started = time.perf_counter()
    png = render_chart(review.weeks, title="Incidents per week by severity")
    drawn = time.perf_counter() - started
    print(
        f"[{name}] review of {review.current.declared} + {review.previous.declared} incidents "
        f"(drills excluded): {len(statements)} queries, read+compute {best * 1000:.0f} ms wall, "
        f"{best_cpu * 1000:.0f} ms CPU in this process (best of {repeat}); "
        f"render text+csv {rendered * 1000:.0f} ms; "
        f"chart {drawn * 1000:.0f} ms ({len(png) // 1024} KiB PNG)"
    )


def main() -> None:
    """Run the benchmark on SQLite, then PostgreSQL unless --no-pg."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.db")
        try:
            measure("sqlite", engine, args.incidents, args.repeat)
        finally:
            engine.dispose()
    if args.no_pg:
        return
    admin = make_engine(args.pg_url, isolation_level="AUTOCOMMIT")
    name = f"sevbot_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(args.pg_url).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    try:
        measure("postgresql", engine, args.incidents, args.repeat)
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
