"""Plug the incident review into the bot: the scheduled post, its retry job, the CLI command."""

from __future__ import annotations

from bot.deps import Deps
from bot.reviews import jobs
from bot.reviews.cli import incident_review_command
from bot.scheduler import Job, every

commands = [incident_review_command]


def install(deps: Deps) -> None:
    """Schedule the review when INCIDENT_REVIEW_CHANNEL is set."""
    if not deps.settings.incident_review_channel:
        return
    job_list = deps.jobs
    job_list.append(Job("incident_review", jobs.on_schedule, jobs.review_trigger(deps.settings)))
    job_list.append(Job("incident_review_retry", jobs.deliver_pending, every(jobs.RETRY_EVERY)))
