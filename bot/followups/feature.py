"""Plug follow-ups into the bot: outbox vetoes, the nudge job and the Notion sync.

Their Slack side (subcommands, buttons, the modal, the App Home section) is registered
from bot/slack/listeners/ (commands/, actions/, views/, events/ followups.py).
"""

from __future__ import annotations

from datetime import timedelta

from bot.deps import Deps
from bot.followups import notify, notion
from bot.postmortems import jobs as postmortem_jobs
from bot.scheduler import Job, every

NUDGE_PASS_EVERY = timedelta(minutes=1)


def install(deps: Deps) -> None:
    """Register the outbox veto, the nudge job and (with Notion configured) the sync job."""
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
