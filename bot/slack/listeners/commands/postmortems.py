"""/incident postmortem: file the postmortem in Notion now, or `done` to mark it complete."""

from __future__ import annotations

import contextlib

from bot.db import session_scope
from bot.deps import Deps
from bot.i18n import N_, _, for_reader
from bot.incidents import service as incidents
from bot.incidents.flows import find_channel_incident
from bot.integrations.ports import IntegrationError
from bot.postmortems import flows, jobs
from bot.postmortems.export import NOT_CONFIGURED, ExportResult
from bot.slack.listeners.lazy import deliver
from bot.slack.router import CommandInput, CommandRouter, Outcome, followup


def accept_postmortem(cmd: CommandInput, deps: Deps) -> Outcome:
    """Mark the postmortem complete (`done`), else export it after the ack."""
    if cmd.args.strip().lower() == "done":
        keys = flows.complete_from_slack(
            cmd.channel_id, cmd.user_id, session_factory=deps.session_factory
        )
        return Outcome(followup=followup(deliver, keys=keys))
    incident_id = find_channel_incident(cmd.channel_id, session_factory=deps.session_factory).id
    return Outcome(
        reply=_("Creating the postmortem document…"),
        followup=followup(
            export_on_request,
            incident_id=incident_id,
            user_id=cmd.user_id,
            channel_id=cmd.channel_id,
        ),
    )


def export_on_request(deps: Deps, *, incident_id: int, user_id: str, channel_id: str) -> None:
    """Create or update the postmortem page now, and tell the person who asked how it went."""
    with session_scope(deps.session_factory) as session:
        found = incidents.get(incident_id, session=session) is not None
    result = jobs.export_now(deps, incident_id, tell_channel=False) if found else None
    with for_reader():  # the reply is for the person who asked
        reply = export_reply(result)
    # The link still reaches the channel on the first export if this fails.
    with contextlib.suppress(IntegrationError):
        deps.chat.post_ephemeral(channel_id, user_id, reply)


def export_reply(result: ExportResult | None) -> str:
    """Say how an export went (None: the incident no longer exists)."""
    if result is None:
        return _("That incident no longer exists.")
    if result.status == "exported":
        return _("The postmortem is in Notion: {url}", url=result.url)
    if result.status == "busy":
        return _("The postmortem is being exported right now; the link will follow in the channel.")
    if result.status == "queued":
        return _(
            "Notion did not take the postmortem yet ({problem}). It is queued.",
            problem=result.message,
        )
    if result.status == "not_configured":
        return _(NOT_CONFIGURED)
    return result.message


def register(router: CommandRouter) -> None:
    """Register /incident postmortem (export, and `done`)."""
    router.subcommand(
        "postmortem",
        usage="/incident postmortem [done]",
        summary=N_("create the postmortem document; `done` marks it complete"),
    )(accept_postmortem)
