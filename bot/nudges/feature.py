"""Nudges: silence nudges, postmortem scheduling and completion loops, meeting invitations.

Their Slack surface (/incident schedule, [Snooze], [Schedule meeting], the meeting modal) is in
bot/slack/listeners/ and bot/slack/blocks/nudges.py.
"""

from __future__ import annotations

import functools

from bot.deps import Deps
from bot.nudges import meetings, rules
from bot.nudges.jobs import POLL_EVERY, run_nudges, superseded_retries
from bot.observability.metrics import nudges_sent
from bot.scheduler import Job, every


def install(deps: Deps) -> None:
    """Register the nudge job, and the outbox's vetoes, metrics and meeting announcements."""
    deps.jobs.append(Job("nudges", run_nudges, every(POLL_EVERY)))
    deps.outbox.veto(rules.ALL_KINDS, functools.partial(superseded_retries, deps=deps))
    deps.outbox.observe(rules.ALL_KINDS, lambda item: nudges_sent.labels(item.kind).inc())
    deps.outbox.handle(
        meetings.MEETING_ANNOUNCEMENT,
        functools.partial(
            meetings.announce_meeting,
            chat=deps.chat,
            session_factory=deps.session_factory,
        ),
    )
