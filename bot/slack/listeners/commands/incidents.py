"""Core /incident subcommands: declare, update, sev, status, role, resolve, reopen, list, help.

Each subcommand accepts (before the ack) in one function and leaves its slow part to a typed
follow-up: `setup_incident`, `open_declare_modal`, `deliver_change` and `list_visible` below.
"""

from __future__ import annotations

import re
from typing import Any

from bot import i18n
from bot.db import utcnow
from bot.deps import Deps
from bot.i18n import N_
from bot.incidents import announce, declare, flows
from bot.incidents.domain import InvalidInput
from bot.incidents.jobs import run_pending_links
from bot.incidents.privacy import visible_to
from bot.integrations.ports import IntegrationError
from bot.observability.context import bind_incident
from bot.slack.blocks.incident import incident_list_blocks
from bot.slack.blocks.modals import declare_modal
from bot.slack.router import CommandInput, CommandRouter, Outcome, followup
from bot.text import neutralise, normalise_severity

_SEVERITY_LIKE = re.compile(r"^sev-?\d+$", re.IGNORECASE)  # "3 nodes down" is a title
_USER_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")

DECLARE_FLAGS = ("drill", "private", "security")


def register(router: CommandRouter) -> None:
    """Register the core subcommands, in the order `/incident help` lists them."""
    router.subcommand(
        "declare",
        usage="/incident declare [drill] [private | security] [sev1..sev5] <title>",
        summary=N_(
            "declare an incident (no title: open the form; drill: left out of the review; "
            "private: a private channel, never announced; security: private, with the "
            "security team)"
        ),
        repeatable=True,  # the trigger id is the incident's request key
    )(declare_command)
    router.subcommand(
        "update", usage="/incident update <text>", summary=N_("post a status update")
    )(update_command)
    router.subcommand(
        "sev",
        usage="/incident sev <1-5 | sevN | SEV-N>",
        summary=N_("change severity"),
        aliases=("severity",),
    )(severity_command)
    router.subcommand(
        "status",
        usage="/incident status <investigating|identified|monitoring|resolved>",
        summary=N_("change status"),
    )(status_command)
    router.subcommand(
        "role", usage="/incident role <commander|comms|scribe> <@user>", summary=N_("assign a role")
    )(role_command)
    router.subcommand(
        "resolve", usage="/incident resolve [summary]", summary=N_("resolve the incident")
    )(resolve_command)
    router.subcommand("reopen", usage="/incident reopen", summary=N_("reopen a resolved incident"))(
        reopen_command
    )
    router.subcommand(
        "list", usage="/incident list", summary=N_("list active incidents"), repeatable=True
    )(list_command)
    router.subcommand(
        "help", usage="/incident help", summary=N_("show this help"), repeatable=True
    )(help_command)


def split_flags(args: str) -> tuple[set[str], str]:
    """Split leading 'drill', 'private' and 'security' words off the declare arguments."""
    flags: set[str] = set()
    rest = args.strip()
    while True:
        first, _, after = rest.partition(" ")
        if first.lower() not in DECLARE_FLAGS or first.lower() in flags:
            return flags, rest
        flags.add(first.lower())
        rest = after.strip()


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


def declare_command(cmd: CommandInput, deps: Deps) -> Outcome:
    """Record a declared incident (or open the form when there is no title)."""
    flags, args = split_flags(cmd.args)
    drill = "drill" in flags
    severity, title = parse_declare_args(args, deps)
    if flags and not title:
        words = " ".join(w for w in DECLARE_FLAGS if w in flags)
        what = "drill" if flags == {"drill"} else "incident"
        raise InvalidInput(f"Give the {what} a title: `/incident declare {words} [sev2] <title>`.")
    if not title:
        return Outcome(
            followup=followup(
                open_declare_modal,
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
        drill=drill,
        private="private" in flags,
        security="security" in flags,
    )
    incident, _created = declare.open_declaration(
        request, session_factory=deps.session_factory, settings=deps.settings
    )
    bind_incident(incident.number)
    return Outcome(
        reply=i18n._(
            "Declaring {label} ({severity}). The channel is on its way.",
            label=incident.label,
            severity=", ".join(
                [
                    incident.severity,
                    *([i18n._("a drill")] if drill else []),
                    *([i18n._("private")] if {"private", "security"} & flags else []),
                ]
            ),
        ),
        followup=followup(setup_incident, incident_id=incident.id),
    )


def update_command(cmd: CommandInput, deps: Deps) -> Outcome:
    """Record a status update."""
    return change_followup(
        flows.record_update(cmd.channel_id, cmd.args, cmd.user_id, ctx=deps.incidents)
    )


def severity_command(cmd: CommandInput, deps: Deps) -> Outcome:
    """Change the severity."""
    if not cmd.args:
        raise InvalidInput(
            i18n._(
                "Which severity? e.g. `/incident sev 2`. Choices: {choices}.",
                choices=", ".join(deps.settings.severity_names),
            )
        )
    return change_followup(
        flows.change_severity(cmd.channel_id, cmd.args, cmd.user_id, ctx=deps.incidents)
    )


def status_command(cmd: CommandInput, deps: Deps) -> Outcome:
    """Change the status."""
    if not cmd.args:
        raise InvalidInput(i18n._("Which status? e.g. `/incident status identified`."))
    return change_followup(
        flows.change_status(cmd.channel_id, cmd.args, cmd.user_id, ctx=deps.incidents)
    )


def role_command(cmd: CommandInput, deps: Deps) -> Outcome:
    """Assign a role to the mentioned person."""
    role, _, who = cmd.args.partition(" ")
    match = _USER_MENTION.match(who.strip())
    if not role or not match:
        raise InvalidInput(i18n._("Usage: `/incident role <commander|comms|scribe> @someone`."))
    return change_followup(
        flows.assign_role(cmd.channel_id, role, match.group(1), cmd.user_id, ctx=deps.incidents)
    )


def resolve_command(cmd: CommandInput, deps: Deps) -> Outcome:
    """Resolve the incident, with an optional summary."""
    return change_followup(flows.resolve(cmd.channel_id, cmd.args, cmd.user_id, ctx=deps.incidents))


def reopen_command(cmd: CommandInput, deps: Deps) -> Outcome:
    """Reopen a resolved incident."""
    return change_followup(flows.reopen(cmd.channel_id, cmd.user_id, ctx=deps.incidents))


def list_command(cmd: CommandInput, deps: Deps) -> Outcome:
    """List the active incidents (after the ack when some are private)."""
    incidents = flows.list_active(session_factory=deps.session_factory)
    if any(i.is_private for i in incidents):  # membership is Slack's: ask after the ack
        return Outcome(
            followup=followup(list_visible, user_id=cmd.user_id, channel_id=cmd.channel_id)
        )
    return Outcome(
        reply=i18n._("{count} active incidents", count=len(incidents)),
        blocks=incident_list_blocks(incidents, utcnow()),
    )


def help_command(cmd: CommandInput, deps: Deps) -> Outcome:
    """Answer with the help listing."""
    return Outcome(reply=neutralise(deps.router.help_text()))  # `<title>` is not markup


def change_followup(change: flows.Change) -> Outcome:
    """Answer a recorded change and leave its delivery (posts, sync, event) for the follow-up."""
    return Outcome(
        reply=None,
        followup=followup(
            deliver_change,
            incident_id=change.incident_id,
            text=change.text,
            actor_id=change.actor_id,
            keys=list(change.keys),
        ),
    )


def setup_incident(deps: Deps, *, incident_id: int) -> None:
    """Set up a recorded incident in Slack, then link it to the vendors waiting for it."""
    if declare.setup_incident(incident_id, deps.incidents):
        announce.sync_incident(incident_id, deps.incidents)  # changes made during setup
    run_pending_links(deps, incident_id)


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
    """Open the declare form for the person who asked."""
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


def deliver_change(
    deps: Deps, *, incident_id: int, text: str, actor_id: str, keys: list[str]
) -> None:
    """Deliver what a recorded change queued, and bring the announcement up to date."""
    flows.deliver_change(flows.Change(incident_id, text, actor_id, tuple(keys)), deps.incidents)


def list_visible(deps: Deps, *, user_id: str, channel_id: str) -> None:
    """Show someone the active incidents they may see (private ones only to members)."""
    incidents = visible_to(
        flows.list_active(session_factory=deps.session_factory),
        user_id,
        deps.chat.channel_members,
    )
    text, blocks = (
        i18n._("{count} active incidents", count=len(incidents)),
        incident_list_blocks(incidents, utcnow()),
    )
    try:
        deps.chat.post_ephemeral(channel_id, user_id, text, blocks)
    except IntegrationError:  # a channel the bot is not in: tell them directly
        deps.chat.send_dm(user_id, text, blocks)
