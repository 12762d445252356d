"""APScheduler 3 set-up. Due times live in the database; the scheduler only polls them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import structlog
from apscheduler.events import EVENT_JOB_SUBMITTED, JobSubmissionEvent
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.observability import metrics
from bot.observability.tracing import flow_span

if TYPE_CHECKING:
    from bot.deps import Deps

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Job:
    """A recurring job: a function of Deps and when to run it."""

    name: str
    func: Callable[[Deps], object]
    trigger: BaseTrigger


def every(interval: timedelta) -> IntervalTrigger:
    """Return a trigger firing at a fixed interval."""
    return IntervalTrigger(seconds=interval.total_seconds())


def build_scheduler(deps: Deps, jobs: list[Job]) -> BackgroundScheduler:
    """Create a background scheduler running each job at most once at a time, never piling up."""
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_listener(record_lag, EVENT_JOB_SUBMITTED)
    for job in jobs:
        scheduler.add_job(
            _guarded(job, deps),
            trigger=job.trigger,
            id=job.name,
            name=job.name,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
    return scheduler


def record_lag(event: JobSubmissionEvent) -> None:
    """Set sevbot_scheduler_lag_seconds: how late this job started after its due time."""
    if event.scheduled_run_times:
        late = datetime.now(UTC) - max(event.scheduled_run_times)
        metrics.scheduler_lag.set(max(late.total_seconds(), 0.0))


def _guarded(job: Job, deps: Deps) -> Callable[[], None]:
    def run() -> None:
        try:
            with flow_span(f"job {job.name}"):
                job.func(deps)
        except Exception:
            log.exception("job_failed", job=job.name)

    run.__name__ = job.name
    return run
