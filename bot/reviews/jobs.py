"""Generate the incident review and post it: by hand, or on schedule once across replicas.

Every replica's scheduler fires; each records the run under the firing's key (an INSERT that
only the first succeeds at), then the run is leased by one process and posted. A failed post
keeps the run and is retried by the retry job with a back-off, for up to RETRY_FOR.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import structlog
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.orm import Session, sessionmaker

from bot.db import session_scope, utcnow
from bot.followups.service import backlog
from bot.integrations.ports import ChatPort, FileShare, IntegrationError
from bot.postmortems.digest import overdue_after
from bot.reviews import data, service
from bot.reviews.chart import render_chart
from bot.reviews.metrics import Review, build_review
from bot.reviews.render import render_text
from bot.settings import ConfigError, Settings

if TYPE_CHECKING:
    from bot.deps import Deps

log = structlog.get_logger(__name__)

LEASE = timedelta(minutes=10)
LOOK_BACK = timedelta(minutes=5)  # before the due time: clocks of Slack and us differ
RETRY_EVERY = timedelta(minutes=10)
RETRY_FOR = timedelta(days=3)
# A replica that fires late (a slow start, a long job before it) still finds its firing.
LOOKBACK = timedelta(hours=1)
MESSAGE_LIMIT = 39_000


def review_trigger(settings: Settings) -> CronTrigger:
    """Return the schedule: INCIDENT_REVIEW_CRON, or the first Monday of each month at 10:00."""
    tz = ZoneInfo(settings.default_timezone)
    if settings.incident_review_cron is None:
        return CronTrigger(day="1st mon", hour=10, minute=0, timezone=tz)
    try:
        return CronTrigger.from_crontab(settings.incident_review_cron, timezone=tz)
    except ValueError as exc:
        raise ConfigError(
            f"INCIDENT_REVIEW_CRON {settings.incident_review_cron!r} is not a valid crontab "
            f"(e.g. '0 10 * * mon'): {exc}"
        ) from exc


def latest_firing(trigger: CronTrigger, now: datetime) -> datetime | None:
    """Return the trigger's last firing at or before now, within LOOKBACK."""
    found = None
    fire = trigger.get_next_fire_time(None, now - LOOKBACK)
    while fire is not None and fire <= now:
        found = fire
        fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    return found


def generate(
    *,
    session_factory: sessionmaker[Session],
    settings: Settings,
    until: datetime,
    span: timedelta | None = None,
) -> Review:
    """Read the database and compute the review of [until - span, until) and the one before."""
    span = span or settings.incident_review_period
    since, previous_since = until - span, until - 2 * span
    with session_scope(session_factory) as session:
        items = data.load_incidents(session=session, since=previous_since, until=until)
        followups = {
            "current": backlog(session=session, since=since, until=until),
            "previous": backlog(session=session, since=previous_since, until=since),
        }
    review = build_review(
        items,
        previous_since=previous_since,
        since=since,
        until=until,
        severities=settings.severity_names,
        timezone=settings.default_timezone,
        booking_window=settings.postmortem_schedule_nudge_after,
        completion_window=overdue_after(settings),
    )
    review.followups = followups
    return review


def review_file_name(review: Review) -> str:
    """Return the chart's file name: one per review, so a lost upload can be found again."""
    return f"incident-review-{review.current.until:%Y-%m-%d}.png"


def post_review(
    review: Review, *, chat: ChatPort, channel: str, look_since: datetime | None = None
) -> str:
    """Upload the chart with the review as its comment (files_upload_v2); return the channel.

    With `look_since` (a retry), an upload that reached Slack since then is not repeated.
    """
    channel_id = chat.resolve_channel(channel)
    if look_since is not None and chat.find_file(
        channel_id, review_file_name(review), oldest=look_since.timestamp()
    ):
        return channel_id
    png = render_chart(
        review.weeks,
        title="Incidents per week by severity",
        period_start=review.current.since,
    )
    chat.share_file(
        channel_id,
        FileShare(
            filename=review_file_name(review),
            content=png,
            title=f"Incident review {review.current.until:%Y-%m-%d}",
            initial_comment=render_text(review)[:MESSAGE_LIMIT],
        ),
    )
    return channel_id


def on_schedule(deps: Deps, *, now: datetime | None = None) -> list[str]:
    """Record this firing's run (once across replicas), then post whatever is due."""
    now = now or utcnow()
    fired = latest_firing(review_trigger(deps.settings), now) or now
    key = f"incident-review:{fired.astimezone(ZoneInfo('UTC')):%Y-%m-%dT%H:%M}"
    with session_scope(deps.session_factory) as session:
        service.record_run(key, fired, session=session)
    return deliver_pending(deps, now=now)


def deliver_pending(deps: Deps, *, now: datetime | None = None) -> list[str]:
    """Post the recorded runs that are not posted yet; return the keys posted now."""
    settings = deps.settings
    if not settings.incident_review_channel:
        return []
    now = now or utcnow()
    with session_scope(deps.session_factory) as session:
        keys = service.unposted_runs(session=session, since=now - RETRY_FOR, now=now)
    posted = []
    for key in keys:
        with session_scope(deps.session_factory) as session:
            run = service.claim_run(key, session=session, now=now, lease_until=now + LEASE)
            if run is None:
                continue
            due_at, attempts = run.due_at, run.attempts
        try:
            review = generate(session_factory=deps.session_factory, settings=settings, until=due_at)
            # A retry (an earlier attempt failed or its process died) looks for its upload.
            channel_id = post_review(
                review,
                chat=deps.chat,
                channel=settings.incident_review_channel,
                look_since=(due_at - LOOK_BACK) if attempts > 1 else None,
            )
        except IntegrationError as exc:
            log.warning("incident_review_not_posted", run=key, problem=str(exc))
            back_off = min(RETRY_EVERY * 2 ** (attempts - 1), timedelta(hours=6))
            with session_scope(deps.session_factory) as session:
                service.mark_failed(key, str(exc), session=session, retry_at=now + back_off)
            continue
        with session_scope(deps.session_factory) as session:
            service.mark_posted(key, channel_id, session=session, at=utcnow())
        log.info("incident_review_posted", run=key, incidents=review.current.declared)
        posted.append(key)
    return posted
