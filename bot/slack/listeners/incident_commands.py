"""Core /incident subcommands: declare, update, sev, status, role, resolve, reopen, list, help."""

from __future__ import annotations

import re
from typing import Any

from bot import i18n
from bot.db import utcnow
from bot.deps import Deps
from bot.i18n import N_
from bot.incidents import announce, declare, flows
from bot.incidents.context import IncidentChanged, IncidentResolved
from bot.incidents.domain import InvalidInput
from bot.incidents.jobs import run_pending_links
from bot.slack.blocks.incident import incident_list_blocks
from bot.slack.blocks.modals import declare_modal
from bot.slack.listeners.commands import followup
from bot.slack.router import CommandInput, CommandRouter, Outcome
from bot.text import normalise_severity

_SEVERITY_LIKE = re.compile(r"^sev-?\d+$", re.IGNORECASE)  # "3 nodes down" is a title
_USER_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")


def change_followup(change: flows.Change) -> Outcome:
    """Answer a recorded change and leave its announcement for the follow-up."""
    event = change.event
    args: dict[str, Any] = {
        "incident_id": change.incident_id,
        "text": change.text,
        "actor_id": change.actor_id,
    }
    if isinstance(event, IncidentResolved):
        args["event"] = {"type": "resolved"}
    elif isinstance(event, IncidentChanged):
        args["event"] = {
            "type": "changed",
            "field": event.field,
            "old": event.old,
            "new": event.new,
        }
    return Outcome(reply=None, followup=followup("announce_change", **args))


def rebuild_change(
    incident_id: int, text: str, actor_id: str, event: dict[str, Any] | None
) -> flows.Change:
    """Rebuild a Change from follow-up arguments."""
    domain_event: object | None = None
    if event and event["type"] == "resolved":
        domain_event = IncidentResolved(incident_id)
    elif event:
        domain_event = IncidentChanged(incident_id, event["field"], event["old"], event["new"])
    return flows.Change(incident_id, text, actor_id, domain_event)


def parse_declare_args(args: str, deps: Deps) -> tuple[str | None, str]:
    """Split '[severity] <title>' into a configured severity (or None) and the title."""
    first, _, rest = args.partition(" ")
    if first and _SEVERITY_LIKE.match(first):
        severity = normalise_severity(first, deps.settings.severity_names)
        if severity is None:
            raise InvalidInput(
                i18n._(
                    "`{severity}` is not a severity here. Use one of: {choices}, "
                    "e.g. `/incident declare sev2 Checkout is down`.",
                    severity=first,
                    choices=", ".join(deps.settings.severity_names),
                )
            )
        return severity, rest.strip()
    return None, args.strip()


def register(router: CommandRouter) -> None:
    """Register the core subcommands and their follow-ups."""

    @router.subcommand(
        "declare",
        usage="/incident declare [sev1..sev5] <title>",
        summary=N_("declare an incident (no title: open the form)"),
    )
    def declare_command(cmd: CommandInput, deps: Deps) -> Outcome:
        severity, title = parse_declare_args(cmd.args, deps)
        if not title:
            return Outcome(
                followup=followup(
                    "open_declare_modal",
                    trigger_id=cmd.trigger_id,
                    user_id=cmd.user_id,
                    channel_id=cmd.channel_id,
                    severity=severity or deps.settings.default_severity,
                )
            )
        request = declare.DeclareRequest(
            request_key=f"cmd:{cmd.trigger_id}",
            title=title,
            severity=severity or deps.settings.default_severity,
            reporter_id=cmd.user_id,
        )
        incident, _created = declare.open_declaration(
            request, session_factory=deps.session_factory, settings=deps.settings
        )
        return Outcome(
            reply=i18n._(
                "Declaring {label} ({severity}). The channel is on its way.",
                label=incident.label,
                severity=incident.severity,
            ),
            followup=followup("setup_incident", incident_id=incident.id),
        )

    @router.subcommand(
        "update", usage="/incident update <text>", summary=N_("post a status update")
    )
    def update_command(cmd: CommandInput, deps: Deps) -> Outcome:
        incident_id = flows.record_update(
            cmd.channel_id, cmd.args, cmd.user_id, session_factory=deps.session_factory
        )
        return Outcome(
            followup=followup(
                "post_update", incident_id=incident_id, text=cmd.args.strip(), author_id=cmd.user_id
            )
        )

    @router.subcommand(
        "sev",
        usage="/incident sev <1-5 | sevN | SEV-N>",
        summary=N_("change severity"),
        aliases=("severity",),
    )
    def severity_command(cmd: CommandInput, deps: Deps) -> Outcome:
        if not cmd.args:
            raise InvalidInput(
                i18n._(
                    "Which severity? e.g. `/incident sev 2`. Choices: {choices}.",
                    choices=", ".join(deps.settings.severity_names),
                )
            )
        return change_followup(
            flows.change_severity(
                cmd.channel_id,
                cmd.args,
                cmd.user_id,
                session_factory=deps.session_factory,
                settings=deps.settings,
            )
        )

    @router.subcommand(
        "status",
        usage="/incident status <investigating|identified|monitoring|resolved>",
        summary=N_("change status"),
    )
    def status_command(cmd: CommandInput, deps: Deps) -> Outcome:
        if not cmd.args:
            raise InvalidInput(i18n._("Which status? e.g. `/incident status identified`."))
        return change_followup(
            flows.change_status(
                cmd.channel_id, cmd.args, cmd.user_id, session_factory=deps.session_factory
            )
        )

    @router.subcommand(
        "role", usage="/incident role <commander|comms|scribe> <@user>", summary=N_("assign a role")
    )
    def role_command(cmd: CommandInput, deps: Deps) -> Outcome:
        role, _, who = cmd.args.partition(" ")
        match = _USER_MENTION.match(who.strip())
        if not role or not match:
            raise InvalidInput(i18n._("Usage: `/incident role <commander|comms|scribe> @someone`."))
        return change_followup(
            flows.assign_role(
                cmd.channel_id,
                role,
                match.group(1),
                cmd.user_id,
                session_factory=deps.session_factory,
            )
        )

    @router.subcommand(
        "resolve", usage="/incident resolve [summary]", summary=N_("resolve the incident")
    )
    def resolve_command(cmd: CommandInput, deps: Deps) -> Outcome:
        return change_followup(
            flows.resolve(
                cmd.channel_id, cmd.args, cmd.user_id, session_factory=deps.session_factory
            )
        )

    @router.subcommand("reopen", usage="/incident reopen", summary=N_("reopen a resolved incident"))
    def reopen_command(cmd: CommandInput, deps: Deps) -> Outcome:
        return change_followup(
            flows.reopen(cmd.channel_id, cmd.user_id, session_factory=deps.session_factory)
        )

    @router.subcommand("list", usage="/incident list", summary=N_("list active incidents"))
    def list_command(cmd: CommandInput, deps: Deps) -> Outcome:
        incidents = flows.list_active(session_factory=deps.session_factory)
        return Outcome(
            reply=i18n._("{count} active incidents", count=len(incidents)),
            blocks=incident_list_blocks(incidents, utcnow()),
        )

    @router.subcommand("help", usage="/incident help", summary=N_("show this help"))
    def help_command(cmd: CommandInput, deps: Deps) -> Outcome:
        return Outcome(reply=deps.router.help_text())

    @router.followup("open_declare_modal")
    def open_declare_modal(
        deps: Deps,
        *,
        trigger_id: str,
        user_id: str,
        channel_id: str,
        severity: str,
        title: str = "",
        description: str = "",
        metadata: dict[str, Any] | None = None,
    ) -> None:
        deps.chat.open_view(
            trigger_id,
            declare_modal(
                severities=deps.settings.severity_names,
                severity=severity,
                reporter_id=user_id,
                title=title,
                description=description,
                title_max_length=deps.settings.title_max_length,
                metadata={"channel_id": channel_id, **(metadata or {})},
            ),
        )

    @router.followup("setup_incident")
    def setup_incident(deps: Deps, *, incident_id: int) -> None:
        if declare.setup_incident(incident_id, deps.incidents):
            announce.sync_incident(incident_id, deps.incidents)  # changes made during setup
        run_pending_links(deps, incident_id)

    @router.followup("post_update")
    def post_update(deps: Deps, *, incident_id: int, text: str, author_id: str) -> None:
        announce.post_update(incident_id, text, author_id, deps.incidents)

    @router.followup("announce_change")
    def announce_change(
        deps: Deps,
        *,
        incident_id: int,
        text: str,
        actor_id: str,
        event: dict[str, Any] | None = None,
    ) -> None:
        announce.announce_change(rebuild_change(incident_id, text, actor_id, event), deps.incidents)
