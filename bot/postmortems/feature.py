"""Plug postmortems in Notion into the bot: events, jobs, CLI (Slack: bot/slack/listeners)."""

from __future__ import annotations

from datetime import timedelta

from apscheduler.triggers.cron import CronTrigger

from bot.deps import Deps
from bot.incidents.events import IncidentResolved
from bot.integrations.notion import NotionAdapter
from bot.postmortems import jobs
from bot.postmortems.cli import notion_setup
from bot.postmortems.events import PostmortemCompleted, PostmortemMeetingChanged
from bot.scheduler import Job, every
from bot.settings import Settings

EXPORT_QUEUE_EVERY = timedelta(minutes=1)
DEFAULT_DIGEST_CRON = "0 9 * * mon"

commands = [notion_setup]


def digest_trigger(settings: Settings) -> CronTrigger:
    """Return the digest schedule: POSTMORTEM_DIGEST_CRON in DEFAULT_TIMEZONE (Mondays 09:00)."""
    expression = settings.postmortem_digest_cron or DEFAULT_DIGEST_CRON
    try:
        return CronTrigger.from_crontab(expression, timezone=settings.default_timezone)
    except ValueError as exc:
        raise ValueError(
            f"POSTMORTEM_DIGEST_CRON: {expression!r} is not a crontab expression "
            f"(e.g. '0 9 * * mon'): {exc}"
        ) from exc


def install(deps: Deps) -> None:
    """Subscribe to incident and postmortem events, and register the jobs."""
    settings = deps.settings
    notion = NotionAdapter.from_settings(settings, engine=deps.engine)
    if notion is not None:
        deps.notion = notion

    def on_resolved(event: IncidentResolved) -> None:
        jobs.on_resolved(deps, event.incident_id)

    def on_postmortem_changed(event: PostmortemMeetingChanged | PostmortemCompleted) -> None:
        jobs.push_now(deps, event.incident_id)

    deps.bus.subscribe(IncidentResolved, on_resolved)
    deps.bus.subscribe(PostmortemMeetingChanged, on_postmortem_changed)
    deps.bus.subscribe(PostmortemCompleted, on_postmortem_changed)

    job_list = deps.jobs
    job_list.append(
        Job("postmortem_export_queue", jobs.run_export_queue, every(EXPORT_QUEUE_EVERY))
    )
    if notion is not None and settings.notion_postmortem_database_id:
        job_list.append(Job("notion_sync", jobs.run_sync, every(settings.notion_sync_every)))
    if settings.postmortem_digest_channel:
        job_list.append(Job("postmortem_digest", jobs.post_digest, digest_trigger(settings)))
