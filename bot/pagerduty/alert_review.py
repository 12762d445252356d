"""Run the alert review: read PagerDuty's list endpoints, rotate the picks, post the result.

Used by the scheduled job (every other Monday by default) and by `sevbot alert-review`.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import structlog
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.orm import Session, sessionmaker

from bot.db import session_scope, utcnow
from bot.integrations.ports import ChatPort, PageHook, PagerDutyPort
from bot.observability.tracing import traced
from bot.pagerduty import service as pd_service
from bot.pagerduty.review import (
    Review,
    choose_picks,
    join_log_entries,
    parse_night_hours,
    render_text,
    window_stats,
    windows,
)
from bot.settings import ConfigError, Settings

if TYPE_CHECKING:
    from bot.deps import Deps

log = structlog.get_logger(__name__)

DEFAULT_CRON = "0 10 * * mon"
REVIEW_SPAN = timedelta(days=14)
# The default cron fires every Monday; a run is skipped when the last one is this recent.
MIN_GAP = timedelta(days=13)
MESSAGE_LIMIT = 39_000

Group = tuple[str, str, str, int]


@dataclass(frozen=True)
class PickPlan:
    """The picks of a review, by rotation cycle, to store once the review is posted."""

    cycle: int
    old_cycle: list[Group]
    new_cycle: list[Group]


@traced("alert review")
def generate(
    adapter: PagerDutyPort,
    *,
    settings: Settings,
    session_factory: sessionmaker[Session],
    span: timedelta = REVIEW_SPAN,
    now: datetime | None = None,
    on_page: PageHook | None = None,
) -> tuple[Review, PickPlan]:
    """Read both windows from the list endpoints and compute the review (stores nothing)."""
    tz = ZoneInfo(settings.default_timezone)
    hours = parse_night_hours(settings.night_hours)
    prev_since, since, until = windows(now or utcnow(), span)
    # The two list endpoints are read side by side; the adapter's limiter covers both.
    with ThreadPoolExecutor(max_workers=2) as pool:
        incidents_read = pool.submit(
            lambda: list(adapter.iter_incidents(prev_since, until, on_page=on_page))
        )
        entries_read = pool.submit(
            lambda: list(adapter.iter_log_entries(prev_since, until, on_page=on_page))
        )
        incidents, entries = incidents_read.result(), entries_read.result()
    items = join_log_entries(incidents, entries)
    current = window_stats(items, since, until, tz=tz, night_hours=hours)
    previous = window_stats(items, prev_since, since, tz=tz, night_hours=hours)
    with session_scope(session_factory) as session:
        cycle = pd_service.current_cycle(session=session)
        already = pd_service.picked_in_cycle(cycle, session=session)
    old, new = choose_picks(current.low_groups, already, settings.alert_review_picks)
    review = Review(current, previous, old + new, settings.default_timezone)
    return review, PickPlan(cycle, old, new)


def store_picks(plan: PickPlan, *, session: Session) -> None:
    """Advance the rotation: record this review's picks (a new cycle when one was exhausted)."""
    for key, label, service, _ in plan.old_cycle:
        pd_service.add_pick(plan.cycle, key, f"{service} · {label}", session=session)
    for key, label, service, _ in plan.new_cycle:
        pd_service.add_pick(plan.cycle + 1, key, f"{service} · {label}", session=session)


def post_review(
    review: Review,
    plan: PickPlan,
    *,
    chat: ChatPort,
    channel: str,
    session_factory: sessionmaker[Session],
    run_key: str | None = None,
) -> str:
    """Post the review, then record the picks (and the run) in one transaction; return the ts."""
    channel_id = chat.resolve_channel(channel)
    text = render_text(review)[:MESSAGE_LIMIT]
    ts = chat.post_message(channel_id, text)
    with session_scope(session_factory) as session:
        store_picks(plan, session=session)
        if run_key is not None:
            pd_service.mark_run_posted(run_key, channel_id, ts, session=session)
    return ts


def review_trigger(settings: Settings) -> CronTrigger:
    """Return the job trigger: ALERT_REVIEW_CRON (or Mondays 10:00) in DEFAULT_TIMEZONE."""
    expression = settings.alert_review_cron or DEFAULT_CRON
    try:
        return CronTrigger.from_crontab(expression, timezone=ZoneInfo(settings.default_timezone))
    except ValueError as exc:
        raise ConfigError(
            f"ALERT_REVIEW_CRON {expression!r} is not a valid crontab: {exc}"
        ) from exc


def due_run_key(settings: Settings, now: datetime, last_posted: datetime | None) -> str | None:
    """Return the key of the run due now, or None when the default cadence skips this week."""
    recent = last_posted is not None and now - last_posted < MIN_GAP
    if settings.alert_review_cron is None and recent:
        return None  # every other Monday: last week's review still stands
    local = now.astimezone(ZoneInfo(settings.default_timezone))
    return local.strftime("%Y-%m-%dT%H:%M")


def scheduled_review(deps: Deps, *, now: datetime | None = None) -> str | None:
    """Post the scheduled review once per due run; return the message ts, or None if skipped."""
    settings = deps.settings
    adapter = deps.pagerduty
    if adapter is None or not settings.alert_review_channel:
        return None
    now = now or utcnow()
    with session_scope(deps.session_factory) as session:
        key = due_run_key(settings, now, pd_service.last_posted_at(session=session))
        if key is None or not pd_service.claim_run(key, session=session):
            return None
    review, plan = generate(
        adapter, settings=settings, session_factory=deps.session_factory, now=now
    )
    ts = post_review(
        review,
        plan,
        chat=deps.chat,
        channel=settings.alert_review_channel,
        session_factory=deps.session_factory,
        run_key=key,
    )
    log.info("alert_review_posted", run=key, incidents=review.current.incidents)
    return ts
