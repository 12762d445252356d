"""Nudge scheduler benchmark: pass cost with 10,000 open incidents, and real-time lateness.

Phase 1 times one scheduler pass (and its traced memory) with --incidents open incidents in
the database: the first pass (every due time computed), passes where nothing is due, and passes
where K nudges are due. Goals: under 200 ms a pass on SQLite and PostgreSQL, cost growing with
the nudges due, not with the incidents open.

Phase 2 runs the real APScheduler (one process on SQLite; two on PostgreSQL) for --seconds with
--fast incidents nudged every 2 s among the others, and prints nudge lateness p50/p99/max against
the bound max(1 s, 2 % of the interval), duplicates and missed nudges.

    .venv/bin/python bench/nudges.py [--db sqlite|postgresql] [--incidents 10000]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, make_url, select, text, update  # noqa: E402

from bench.common import median, percentile  # noqa: E402
from bot.db import make_engine, migrate, session_scope  # noqa: E402
from bot.deps import Deps, build_deps  # noqa: E402
from bot.fakes.slack import FakeSlack  # noqa: E402
from bot.features import install_features  # noqa: E402
from bot.incidents.models import Incident  # noqa: E402
from bot.integrations.slack_metadata import OUTBOX_EVENT  # noqa: E402
from bot.logs import configure_logging  # noqa: E402
from bot.nudges.jobs import POLL_EVERY, run_nudges  # noqa: E402
from bot.nudges.models import NudgeSchedule  # noqa: E402
from bot.outbox.models import OutboxMessage  # noqa: E402
from bot.scheduler import Job, build_scheduler, every  # noqa: E402
from bot.settings import Settings  # noqa: E402

FAST_INTERVAL = timedelta(seconds=2)
PENDING_LIMIT = 200
DUE_STEPS = (10, 100, 1000)


def database_url(kind: str) -> tuple[str, Any]:
    """Return a fresh database URL and a cleanup function."""
    if kind == "sqlite":
        path = Path(tempfile.mkdtemp(prefix="sevbot-bench-")) / "nudges.db"
        return f"sqlite:///{path}", lambda: None
    admin_url = os.environ.get(
        "TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"sevbot_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(admin_url).set(database=name).render_as_string(hide_password=False), drop


def build(slack: FakeSlack, url: str) -> Deps:
    """Assemble deps with every feature, SEV-1 nudged every 2 s and the others hourly."""
    severities: list[dict[str, Any]] = [{"name": "SEV-1", "update_nudge_after": "2s"}]
    severities += [{"name": f"SEV-{n}"} for n in range(2, 6)]
    values: dict[str, Any] = {
        "slack_bot_token": slack.bot_token,
        "slack_signing_secret": "bench",
        "slack_api_url": slack.api_url,
        "database_url": url,
        "severities": severities,
        "sevbot_config": None,
        "log_level": "WARNING",
    }
    settings = Settings(**values)
    return install_features(build_deps(settings))


def populate(deps: Deps, slack: FakeSlack, total: int, live: int, now: datetime) -> None:
    """Insert open incidents, silent for under an hour; the first `live` get real channels."""
    user = slack.add_user("alice", email="alice@example.com")
    channels = [slack.add_channel(f"inc-{n}", members=[user]) for n in range(1, live + 1)]
    rng = random.Random(7)
    rows = [
        {
            "number": n,
            "title": f"Incident {n}",
            "description": "",
            "severity": "SEV-3",
            "status": "investigating",
            "reporter_id": user,
            "commander_id": user,
            "invitees": [],
            "request_key": f"bench:{n}",
            "channel_id": channels[n - 1] if n <= live else f"CBENCH{n:08d}",
            "channel_name": f"inc-{n}",
            "declared_at": now - timedelta(minutes=rng.uniform(1, 59)),
            "setup_done_at": now,
        }
        for n in range(1, total + 1)
    ]
    with session_scope(deps.session_factory) as session:
        session.execute(insert(Incident), rows)


def make_due(deps: Deps, numbers: range, now: datetime) -> None:
    """Put incidents in the state of an hour's silence that ended one second ago."""
    declared = now - timedelta(hours=1, seconds=1)
    with session_scope(deps.session_factory) as session:
        ids = list(session.scalars(select(Incident.id).where(Incident.number.in_(list(numbers)))))
        session.execute(update(Incident).where(Incident.id.in_(ids)).values(declared_at=declared))
        session.execute(
            update(NudgeSchedule)
            .where(NudgeSchedule.incident_id.in_(ids))
            .values(next_due_at=now - timedelta(seconds=1), seen_activity_at=declared)
        )


def timed_pass(deps: Deps, now: datetime) -> tuple[float, Any]:
    """Run one pass at a given time; return milliseconds and what it did."""
    start = time.perf_counter()
    result = run_nudges(deps, now)
    return (time.perf_counter() - start) * 1000, result


def traced_peak(deps: Deps, now: datetime) -> float:
    """Return the peak traced memory (MiB) of one pass."""
    tracemalloc.start()
    run_nudges(deps, now)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def phase_pass_cost(deps: Deps, now: datetime, total: int) -> None:
    """Print the cost of one pass: first, idle, and with K nudges due."""
    planned, passes, total_ms = 0, 0, 0.0
    while True:
        ms, result = timed_pass(deps, now)
        if not result.planned:
            break
        planned, passes, total_ms = planned + result.planned, passes + 1, total_ms + ms
    print(
        f"first passes (plan all {planned} incidents once, {passes} passes of up to 1000): "
        f"{total_ms / passes:6.1f} ms per pass"
    )
    idle = [timed_pass(deps, now + timedelta(milliseconds=i))[0] for i in range(20)]
    print(
        f"idle pass (0 due):  median {median(idle):6.1f} ms  max {max(idle):6.1f} ms  "
        f"peak memory {traced_peak(deps, now):.2f} MiB"
    )
    first = 1
    for due in DUE_STEPS:
        make_due(deps, range(first, first + due), now)
        ms, result = timed_pass(deps, now)
        print(
            f"pass with {due:5d} due: {ms:8.1f} ms  (sent {result.sent} this pass, at most "
            f"{PENDING_LIMIT} a pass; {ms / max(result.sent, 1):5.2f} ms per nudge sent)"
        )
        first += due
    make_due(deps, range(first, first + 100), now)
    print(f"pass with   100 due, peak memory {traced_peak(deps, now):.2f} MiB")
    while (result := run_nudges(deps, now)) is not None and (result.sent or result.planned):
        pass  # drain what the pending limit (200 a pass) left for later passes


def phase_lateness(deps_list: list[Deps], slack: FakeSlack, fast: range, seconds: float) -> None:
    """Run the real scheduler(s) with fast incidents and print lateness and duplicates."""
    deps = deps_list[0]
    now = datetime.now(UTC)
    rng = random.Random(11)
    with session_scope(deps.session_factory) as session:
        for number in fast:
            session.execute(
                update(Incident)
                .where(Incident.number == number)
                .values(severity="SEV-1", declared_at=now - timedelta(seconds=rng.uniform(0, 2)))
            )
    for replica in deps_list:  # processes that are already running: connections are open
        run_nudges(replica, now - timedelta(seconds=5))
    schedulers = [
        build_scheduler(d, [Job("nudges", run_nudges, every(POLL_EVERY))]) for d in deps_list
    ]
    started = time.time()
    for scheduler in schedulers:
        scheduler.start()
    time.sleep(seconds)
    for scheduler in schedulers:
        scheduler.shutdown(wait=True)
    stopped = time.time()
    keys: Counter[str] = Counter()
    posted: dict[str, float] = {}
    for number in fast:
        for message in slack.messages(f"inc-{number}"):
            meta = message.get("metadata") or {}
            if meta.get("event_type") == OUTBOX_EVENT:
                key = meta["event_payload"]["key"]
                keys[key] += 1
                posted.setdefault(key, float(message["ts"]))
    with session_scope(deps.session_factory) as session:
        rows = session.execute(
            select(OutboxMessage.key, OutboxMessage.due_at, OutboxMessage.incident_id).where(
                OutboxMessage.kind == "update"
            )
        ).all()
        fast_ids = set(session.scalars(select(Incident.id).where(Incident.number.in_(list(fast)))))
        anchors = dict(
            session.execute(
                select(Incident.id, Incident.declared_at).where(Incident.id.in_(fast_ids))
            ).all()
        )
    lateness = [
        posted[key] - due.timestamp()
        for key, due, incident_id in rows
        if incident_id in fast_ids and key in posted and due.timestamp() >= started
    ]
    expected = 0
    for anchor in anchors.values():
        point = anchor + FAST_INTERVAL
        while point.timestamp() < stopped - 1.5:
            expected += point.timestamp() >= started
            point += FAST_INTERVAL
    bound = max(1.0, 0.02 * FAST_INTERVAL.total_seconds())
    duplicates = sum(count - 1 for count in keys.values() if count > 1)
    print(
        f"real scheduler x{len(schedulers)}, {len(fast)} incidents every 2 s for {seconds:.0f} s: "
        f"{len(lateness)} nudges (expected ≥ {expected})"
    )
    if lateness:
        print(
            f"lateness p50 {percentile(lateness, 50) * 1000:6.0f} ms  "
            f"p99 {percentile(lateness, 99) * 1000:6.0f} ms  max {max(lateness) * 1000:6.0f} ms  "
            f"(bound {bound * 1000:.0f} ms; early: {sum(1 for v in lateness if v < 0)})"
        )
    print(f"duplicates: {duplicates}   missed: {max(expected - len(lateness), 0)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--fast", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=12.0)
    args = parser.parse_args()
    configure_logging("WARNING")
    slack = FakeSlack().start()
    url, cleanup = database_url(args.db)
    try:
        deps = build(slack, url)
        migrate(deps.engine)
        live = sum(DUE_STEPS) + 100 + args.fast
        now = datetime.now(UTC)
        populate(deps, slack, args.incidents, live, now)
        print(f"{args.db}: {args.incidents} open incidents")
        phase_pass_cost(deps, now, args.incidents)
        fast = range(live - args.fast + 1, live + 1)
        replicas = [deps] + ([build(slack, url)] if args.db == "postgresql" else [])
        phase_lateness(replicas, slack, fast, args.seconds)
        for d in replicas:
            d.engine.dispose()
    finally:
        slack.stop()
        cleanup()


if __name__ == "__main__":
    main()
