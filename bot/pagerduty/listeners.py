"""Slack side of the pagerduty feature: /incident link|alerts|oncall|page and two buttons.

Accept functions validate before the ack; follow-ups call one flow and report problems to the
user who asked, as an ephemeral message.
"""

from __future__ import annotations

import json
from typing import Any

import structlog
from slack_bolt import Ack, App

from bot.db import session_scope
from bot.deps import Deps
from bot.i18n import N_, _, for_reader, public_
from bot.incidents import service as incidents
from bot.incidents.domain import InvalidInput
from bot.incidents.flows import channel_incident
from bot.integrations.ports import AuthError, IntegrationError, NotFound, PagerDutyPort
from bot.pagerduty import flows
from bot.pagerduty import service as pd_service
from bot.pagerduty.domain import incident_ref
from bot.slack.blocks import pagerduty as pd_blocks
from bot.slack.blocks.modals import declare_modal
from bot.slack.ids import PagerDutyAction
from bot.slack.listeners.commands.slash import followup
from bot.slack.listeners.payloads import action_channel
from bot.slack.router import CommandInput, CommandRouter, Outcome
from bot.text import UNKNOWN_USER, mention

log = structlog.get_logger(__name__)

NOT_CONFIGURED = N_("PagerDuty is not configured here: ask an admin to set PAGERDUTY_API_TOKEN.")


def adapter_of(deps: Deps) -> PagerDutyPort:
    """Return the PagerDuty adapter, or raise InvalidInput saying the feature is off."""
    adapter = deps.pagerduty
    if adapter is None:
        raise InvalidInput(_(NOT_CONFIGURED))
    return adapter


def _sev_channel(cmd: CommandInput, deps: Deps, usage: str) -> int:
    with session_scope(deps.session_factory) as session:
        return channel_incident(cmd.channel_id, session=session, usage=usage).id


def _report(deps: Deps, channel_id: str, user_id: str, problem: Exception) -> None:
    if isinstance(problem, AuthError):
        log.error("pagerduty.auth_failed", problem=str(problem))
    try:
        with for_reader():
            text = _("PagerDuty: {problem}", problem=problem)
        deps.chat.post_ephemeral(channel_id, user_id, text)
    except IntegrationError:
        log.warning("pagerduty.report_not_delivered", problem=str(problem))


def register(router: CommandRouter) -> None:
    """Register the PagerDuty subcommands and their follow-ups."""

    @router.subcommand(
        "link",
        usage="/incident link <PagerDuty ID or URL>",
        summary=N_("link a PagerDuty incident"),
    )
    def link_command(cmd: CommandInput, deps: Deps) -> Outcome:
        adapter_of(deps)
        incident_id = _sev_channel(cmd, deps, "/incident link <PagerDuty ID or URL>")
        try:
            ref = incident_ref(cmd.args)
        except ValueError as exc:
            raise InvalidInput(
                _(
                    "{text} is not a PagerDuty incident ID or URL. Example: `/incident link "
                    "Q1ABCDEF` or a https://…pagerduty.com/incidents/… URL.",
                    text=cmd.args or _("Nothing"),
                )
            ) from exc
        return Outcome(
            reply=_("Linking PagerDuty incident {ref}…", ref=ref),
            followup=followup(
                "pagerduty_link",
                incident_id=incident_id,
                ref=ref,
                user_id=cmd.user_id,
                channel_id=cmd.channel_id,
            ),
        )

    @router.subcommand(
        "alerts", usage="/incident alerts", summary=N_("pull the linked PagerDuty alerts")
    )
    def alerts_command(cmd: CommandInput, deps: Deps) -> Outcome:
        adapter_of(deps)
        incident_id = _sev_channel(cmd, deps, "/incident alerts")
        with session_scope(deps.session_factory) as session:
            if not pd_service.links_for(incident_id, session=session):
                raise InvalidInput(
                    _("No PagerDuty incident is linked yet. Use `/incident link <ID or URL>`.")
                )
        return Outcome(
            reply=_("Fetching the PagerDuty alerts…"),
            followup=followup(
                "pagerduty_alerts",
                incident_id=incident_id,
                user_id=cmd.user_id,
                channel_id=cmd.channel_id,
            ),
        )

    @router.subcommand(
        "oncall",
        usage="/incident oncall [service or escalation policy]",
        summary=N_("show who is on call in PagerDuty"),
        repeatable=True,
    )
    def oncall_command(cmd: CommandInput, deps: Deps) -> Outcome:
        adapter_of(deps)
        return Outcome(
            followup=followup(
                "pagerduty_oncall",
                query=cmd.args or None,
                user_id=cmd.user_id,
                channel_id=cmd.channel_id,
            )
        )

    @router.subcommand(
        "page", usage="/incident page <PagerDuty service>", summary=N_("page a PagerDuty service")
    )
    def page_command(cmd: CommandInput, deps: Deps) -> Outcome:
        adapter_of(deps)
        if not cmd.args:
            raise InvalidInput(_("Which service? Usage: `/incident page <PagerDuty service>`."))
        if not deps.settings.pagerduty_from_email:
            raise InvalidInput(
                _(
                    "Paging needs PAGERDUTY_FROM_EMAIL "
                    "(PagerDuty requires a From header for writes)."
                )
            )
        incident_id = _sev_channel(cmd, deps, "/incident page <service>")
        return Outcome(
            reply=_("Paging {service} on PagerDuty…", service=cmd.args),
            followup=followup(
                "pagerduty_page",
                incident_id=incident_id,
                service=cmd.args,
                user_id=cmd.user_id,
                channel_id=cmd.channel_id,
            ),
        )

    @router.followup("pagerduty_link")
    def run_link(deps: Deps, *, incident_id: int, ref: str, user_id: str, channel_id: str) -> None:
        try:
            with for_reader():  # errors are for the person who asked; posts use public_()
                flows.link(
                    incident_id,
                    ref,
                    session_factory=deps.session_factory,
                    adapter=adapter_of(deps),
                    chat=deps.chat,
                    linked_by=user_id,
                )
        except (InvalidInput, IntegrationError) as exc:
            _report(deps, channel_id, user_id, exc)

    @router.followup("pagerduty_alerts")
    def run_alerts(deps: Deps, *, incident_id: int, user_id: str, channel_id: str) -> None:
        try:
            with for_reader():
                flows.refresh_alerts(
                    incident_id,
                    session_factory=deps.session_factory,
                    adapter=adapter_of(deps),
                    chat=deps.chat,
                )
        except (InvalidInput, IntegrationError) as exc:
            _report(deps, channel_id, user_id, exc)

    @router.followup("pagerduty_oncall")
    def run_oncall(deps: Deps, *, query: str | None, user_id: str, channel_id: str) -> None:
        try:
            people = flows.oncall(query, adapter=adapter_of(deps), chat=deps.chat)
        except (InvalidInput, IntegrationError) as exc:
            _report(deps, channel_id, user_id, exc)
            return
        with for_reader():  # only the person who asked sees it
            message = pd_blocks.oncall_message(people, query)
        deps.chat.post_ephemeral(channel_id, user_id, message.text, message.blocks)

    @router.followup("pagerduty_page")
    def run_page(
        deps: Deps, *, incident_id: int, service: str, user_id: str, channel_id: str
    ) -> None:
        try:
            with for_reader():
                flows.page(
                    incident_id,
                    service,
                    session_factory=deps.session_factory,
                    adapter=adapter_of(deps),
                    chat=deps.chat,
                    requested_by=user_id,
                )
        except (InvalidInput, IntegrationError) as exc:
            _report(deps, channel_id, user_id, exc)


def link_after_declare(deps: Deps, incident_id: int, ref: str) -> None:
    """Link the PagerDuty incident a Declare button came from (the core 'link:pagerduty' hook)."""
    adapter = deps.pagerduty
    if adapter is None:
        return
    try:
        flows.link(
            incident_id, ref, session_factory=deps.session_factory, adapter=adapter, chat=deps.chat
        )
    except (InvalidInput, NotFound) as exc:  # a bad or vanished reference: nothing to retry
        log.warning(
            "pagerduty.link_after_declare_failed", incident_id=incident_id, problem=str(exc)
        )
        return
    # Any other IntegrationError (an outage) propagates: the link stays pending and is retried.
    flows.mark_offer_declared(
        ref, incident_id, session_factory=deps.session_factory, chat=deps.chat
    )


def register_actions(app: App, deps: Deps) -> None:
    """Register the [Declare incident] and [Invite] buttons."""

    def just_ack(ack: Ack) -> None:
        ack()

    def open_declare(body: dict[str, Any]) -> None:
        action = body["actions"][0]
        user_id, channel = body["user"]["id"], action_channel(body)
        try:
            value = json.loads(action.get("value") or "{}")
            pd_id = incident_ref(str(value["pd_incident_id"]))
        except (ValueError, KeyError, TypeError):
            with for_reader():
                text = _("This Declare button is broken, sorry.")
            deps.chat.post_ephemeral(channel, user_id, text)
            return
        with session_scope(deps.session_factory) as session:
            linked = pd_service.incident_for_pd(pd_id, session=session)
            number = incidents.get(linked, session=session).number if linked else None  # type: ignore[union-attr]
        if number is not None:
            with for_reader():
                text = _("This PagerDuty incident is already INC-{number}.", number=number)
            deps.chat.post_ephemeral(channel, user_id, text)
            return
        severity = value.get("severity")
        if severity not in deps.settings.severity_names:
            severity = deps.settings.default_severity
        with for_reader():  # the form is for the person who clicked
            view = declare_modal(
                severities=deps.settings.severity_names,
                severity=severity,
                reporter_id=user_id,
                title=str(value.get("title") or ""),
                description=str(value.get("url") or ""),
                title_max_length=deps.settings.title_max_length,
                metadata={"channel_id": channel, "links": {"pagerduty": pd_id}},
            )
        try:
            deps.chat.open_view(body["trigger_id"], view)
        except IntegrationError as exc:
            with for_reader():
                text = _("Could not open the form: {problem}", problem=exc)
            deps.chat.post_ephemeral(channel, user_id, text)

    def invite(body: dict[str, Any]) -> None:
        action = body["actions"][0]
        user_id, channel = body["user"]["id"], action_channel(body)
        ids = [u for u in (action.get("value") or "").split(",") if mention(u) != UNKNOWN_USER]
        try:
            deps.chat.invite(channel, ids)
        except IntegrationError as exc:
            with for_reader():
                text = _("Could not invite them: {problem}", problem=exc)
            deps.chat.post_ephemeral(channel, user_id, text)
            return
        mentions = ", ".join(mention(u) for u in ids)
        deps.chat.post_message(
            channel,
            public_("{user} invited the on-call: {people}", user=mention(user_id), people=mentions),
        )

    app.action(PagerDutyAction.DECLARE.value)(ack=just_ack, lazy=[open_declare])
    app.action(PagerDutyAction.INVITE_ONCALL.value)(ack=just_ack, lazy=[invite])
