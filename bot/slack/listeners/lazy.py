"""Carry a follow-up from the ack to the lazy listener that runs it, after Slack has its answer.

Every surface acks first (commands, actions, views), then Bolt runs the lazy listener in the
listener pool: `carry` records the follow-up in the request context before the ack, and
`run_carried` is the lazy listener that runs it. `deliver` is the follow-up of an ack that
only recorded outbox rows.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

import structlog
from slack_bolt import Ack, BoltContext

from bot.deps import Deps
from bot.i18n import _, for_reader
from bot.integrations.ports import IntegrationError
from bot.observability.context import followup_span
from bot.slack.router import Followup

log = structlog.get_logger(__name__)

FOLLOWUP_KEY = "sevbot_followup"


def just_ack(ack: Ack) -> None:
    """Ack a click at once; its lazy listener does the work."""
    ack()


def carry(context: BoltContext, followup: Followup | None) -> None:
    """Record a follow-up for the lazy listener of this request."""
    if followup is not None:
        context[FOLLOWUP_KEY] = followup


def run_carried(context: BoltContext, deps: Deps) -> None:
    """Run the follow-up the ack recorded, if any (a lazy listener: bind deps by keyword)."""
    run_followup(context.get(FOLLOWUP_KEY), deps, cause=context)


def run_followup(
    followup: Followup | None, deps: Deps, *, cause: Mapping[str, Any] | None = None
) -> None:
    """Run a follow-up; a vendor failure is told to the person who asked, when we know them.

    `cause` is the Bolt context of the request that asked for it: its span is linked.
    """
    if followup is None:
        return
    try:
        with followup_span(followup.name, followup.args, deps.session_factory, cause):
            followup.run(deps, **followup.args)
    except IntegrationError as exc:
        log.warning("followup_failed", followup=followup.name, problem=str(exc))
        user, channel = followup.args.get("user_id"), followup.args.get("channel_id")
        if user and channel:
            with contextlib.suppress(IntegrationError):
                with for_reader():
                    text = _("Sorry, that did not go through: {problem}", problem=exc)
                deps.chat.post_ephemeral(channel, user, text)


def deliver(deps: Deps, *, keys: list[str]) -> None:
    """Send the outbox rows the ack recorded (a follow-up)."""
    deps.outbox.deliver(keys)
