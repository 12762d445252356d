"""Nudges: silence nudges, postmortem scheduling and completion loops, meeting invitations."""

from __future__ import annotations

import functools

from bot.deps import Deps
from bot.nudges import commands, listeners, meetings, rules
from bot.nudges.jobs import POLL_EVERY, run_nudges, superseded_retries
from bot.observability.metrics import nudges_sent
from bot.scheduler import Job, every


def install(deps: Deps) -> None:
    """Register /incident schedule, /incident postmortem done, the buttons and the nudge job."""
    commands.register(deps.router)
    deps.router.followup("nudges_say")(listeners.say)
    deps.app_hooks.append(listeners.register)
    deps.jobs.append(Job("nudges", run_nudges, every(POLL_EVERY)))
    deps.outbox.veto(rules.ALL_KINDS, functools.partial(superseded_retries, deps=deps))
    deps.outbox.observe(rules.ALL_KINDS, lambda item: nudges_sent.labels(item.kind).inc())
    deps.outbox.handle(
        meetings.MEETING_ANNOUNCEMENT,
        functools.partial(
            meetings.announce_meeting,
            chat=deps.chat,
            tagged=deps.outbox.chat,
            session_factory=deps.session_factory,
        ),
    )
