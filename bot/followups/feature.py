"""Plug follow-ups into the bot: the subcommands and the buttons."""

from __future__ import annotations

from datetime import timedelta

from bot.deps import Deps
from bot.followups import listeners, notify, notion
from bot.postmortems import jobs as postmortem_jobs
from bot.scheduler import Job, every

NUDGE_PASS_EVERY = timedelta(minutes=1)


def install(deps: Deps) -> None:
    """Register the subcommands, the buttons, the App Home section and the nudge job."""
    listeners.register(deps.router)
    deps.app_hooks.append(listeners.register_actions)
    deps.home_sections.append(listeners.home_section)
    deps.outbox.veto(notify.KINDS, notify.closed_meanwhile)
    jobs = deps.jobs
    jobs.append(Job("followup_nudges", notify.run_followup_nudges, every(NUDGE_PASS_EVERY)))
    if deps.settings.notion_token and deps.settings.notion_followups_database_id:
        jobs.append(Job("followups_notion", run_notion_sync, every(NUDGE_PASS_EVERY)))


def run_notion_sync(deps: Deps) -> notion.FollowUpSync:
    """Push follow-ups to Notion and read edits back; refresh postmortems that gained links."""
    summary = notion.sync_followups(
        session_factory=deps.session_factory,
        notion=postmortem_jobs.notion_of(deps),
        chat=deps.chat,
        settings=deps.settings,
    )
    for incident_id in sorted(summary.created_for):
        postmortem_jobs.export_now(deps, incident_id, tell_channel=False)
    return summary
