"""APScheduler 3 set-up. Due times live in the database; the scheduler only polls them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import structlog
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

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


def _guarded(job: Job, deps: Deps) -> Callable[[], None]:
    def run() -> None:
        try:
            job.func(deps)
        except Exception:
            log.exception("job_failed", job=job.name)

    run.__name__ = job.name
    return run
