"""The scheduler reports how late jobs start, and runs each job in a span."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.events import EVENT_JOB_SUBMITTED
from apscheduler.triggers.date import DateTrigger
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from bot.observability import metrics
from bot.scheduler import Job, build_scheduler
from tests.harness import wait_until


def test_a_late_job_sets_the_lag_and_runs_in_a_span(spans: InMemorySpanExporter) -> None:
    ran = threading.Event()
    due = datetime.now(UTC) - timedelta(seconds=5)  # as if the process had been busy or down
    job = Job("probe", lambda _deps: ran.set(), DateTrigger(run_date=due))
    scheduler = build_scheduler(object(), [job])  # type: ignore[arg-type]
    seen: list[float | None] = []

    def right_after_the_lag_was_recorded(event: Any) -> None:
        # Listeners run in order on the scheduler's thread; other schedulers in this test
        # process may set the (process-wide) gauge again a moment later.
        if event.job_id == "probe":
            seen.append(metrics.PROCESS.get_sample_value("sevbot_scheduler_lag_seconds"))

    scheduler.add_listener(right_after_the_lag_was_recorded, EVENT_JOB_SUBMITTED)
    scheduler.start()
    try:
        assert ran.wait(10)
        wait_until(
            lambda: seen and [s for s in spans.get_finished_spans() if s.name == "job probe"]
        )
    finally:
        scheduler.shutdown(wait=True)
    [lag] = seen
    assert lag is not None and 5 <= lag < 30
