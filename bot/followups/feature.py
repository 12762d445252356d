"""Plug follow-ups into the bot: the subcommands and the buttons."""

from __future__ import annotations

from datetime import timedelta

from bot.deps import Deps
from bot.followups import listeners, notify
from bot.scheduler import Job, every

NUDGE_PASS_EVERY = timedelta(minutes=1)


def install(deps: Deps) -> None:
    """Register the subcommands, the buttons, the App Home section and the nudge job."""
    listeners.register(deps.router)
    deps.outbox.veto(notify.KINDS, notify.closed_meanwhile)
    jobs = deps.extras.setdefault("jobs", [])
    jobs.append(Job("followup_nudges", notify.run_followup_nudges, every(NUDGE_PASS_EVERY)))
    deps.extras.setdefault("app_hooks", []).append(listeners.register_actions)
    deps.extras.setdefault("home_sections", []).append(listeners.home_section)
