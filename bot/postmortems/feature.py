"""Plug postmortems in Notion into the bot: events, the `postmortem_export` follow-up, jobs, CLI."""

from __future__ import annotations

import contextlib
from datetime import timedelta

from apscheduler.triggers.cron import CronTrigger

from bot.db import session_scope
from bot.deps import Deps
from bot.i18n import _, for_reader
from bot.incidents import service as incidents
from bot.incidents.events import IncidentResolved
from bot.integrations.notion import NotionAdapter
from bot.integrations.ports import IntegrationError
from bot.postmortems import jobs
from bot.postmortems.cli import notion_setup
from bot.postmortems.events import PostmortemCompleted, PostmortemMeetingChanged
from bot.postmortems.export import NOT_CONFIGURED
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


def export_reply(deps: Deps, incident_id: int) -> str:
    """Export on request and return what to tell the person who asked."""
    result = jobs.export_now(deps, incident_id, tell_channel=False)
    with for_reader():  # the reply is for the person who asked
        if result.status == "exported":
            return _("The postmortem is in Notion: {url}", url=result.url)
        if result.status == "busy":
            return _(
                "The postmortem is being exported right now; the link will follow in the channel."
            )
        if result.status == "queued":
            return _(
                "Notion did not take the postmortem yet ({problem}). It is queued.",
                problem=result.message,
            )
        if result.status == "not_configured":
            return _(NOT_CONFIGURED)
        return result.message


def install(deps: Deps) -> None:
    """Subscribe to incident events, register the follow-up and the jobs."""
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

    @deps.router.followup("postmortem_export")
    def postmortem_export(deps: Deps, *, incident_id: int, user_id: str, channel_id: str) -> None:
        with session_scope(deps.session_factory) as session:
            found = incidents.get(incident_id, session=session) is not None
        if found:
            reply = export_reply(deps, incident_id)
        else:
            with for_reader():
                reply = _("That incident no longer exists.")
        # The link still reaches the channel on the first export if this fails.
        with contextlib.suppress(IntegrationError):
            deps.chat.post_ephemeral(channel_id, user_id, reply)

    job_list = deps.jobs
    job_list.append(
        Job("postmortem_export_queue", jobs.run_export_queue, every(EXPORT_QUEUE_EVERY))
    )
    if notion is not None and settings.notion_postmortem_database_id:
        job_list.append(Job("notion_sync", jobs.run_sync, every(settings.notion_sync_every)))
    if settings.postmortem_digest_channel:
        job_list.append(Job("postmortem_digest", jobs.post_digest, digest_trigger(settings)))
