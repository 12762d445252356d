"""/incident link|alerts|oncall|page: PagerDuty subcommands and their follow-ups.

Accept functions validate before the ack; follow-ups call one flow and report problems to the
user who asked, as an ephemeral message.
"""

from __future__ import annotations

import structlog

from bot.db import session_scope
from bot.deps import Deps
from bot.i18n import N_, _, for_reader
from bot.incidents.domain import InvalidInput
from bot.incidents.flows import find_channel_incident
from bot.integrations.ports import AuthError, IntegrationError, PagerDutyPort
from bot.pagerduty import flows
from bot.pagerduty import service as pd_service
from bot.pagerduty.domain import incident_ref
from bot.slack.blocks import pagerduty as pd_blocks
from bot.slack.router import CommandInput, CommandRouter, Outcome, followup

log = structlog.get_logger(__name__)

LINK_USAGE = "/incident link <PagerDuty ID or URL>"


def adapter_of(deps: Deps) -> PagerDutyPort:
    """Return the PagerDuty adapter, or raise InvalidInput saying the feature is off."""
    return flows.configured(deps.pagerduty)


def _sev_channel(cmd: CommandInput, deps: Deps, usage: str) -> int:
    return find_channel_incident(
        cmd.channel_id, session_factory=deps.session_factory, usage=usage
    ).id


def _report(deps: Deps, channel_id: str, user_id: str, problem: Exception) -> None:
    if isinstance(problem, AuthError):
        log.error("pagerduty.auth_failed", problem=str(problem))
    try:
        with for_reader():
            text = _("PagerDuty: {problem}", problem=problem)
        deps.chat.post_ephemeral(channel_id, user_id, text)
    except IntegrationError:
        log.warning("pagerduty.report_not_delivered", problem=str(problem))


def link_command(cmd: CommandInput, deps: Deps) -> Outcome:
    """Accept /incident link: check the reference, then link it after the ack."""
    adapter_of(deps)
    incident_id = _sev_channel(cmd, deps, LINK_USAGE)
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
            run_link,
            incident_id=incident_id,
            ref=ref,
            user_id=cmd.user_id,
            channel_id=cmd.channel_id,
        ),
    )


def alerts_command(cmd: CommandInput, deps: Deps) -> Outcome:
    """Accept /incident alerts: pull the linked incidents again after the ack."""
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
            run_alerts,
            incident_id=incident_id,
            user_id=cmd.user_id,
            channel_id=cmd.channel_id,
        ),
    )


def oncall_command(cmd: CommandInput, deps: Deps) -> Outcome:
    """Accept /incident oncall: look up who is on call after the ack."""
    adapter_of(deps)
    return Outcome(
        followup=followup(
            run_oncall,
            query=cmd.args or None,
            user_id=cmd.user_id,
            channel_id=cmd.channel_id,
        )
    )


def page_command(cmd: CommandInput, deps: Deps) -> Outcome:
    """Accept /incident page: check the service name and the From email, page after the ack."""
    adapter_of(deps)
    if not cmd.args:
        raise InvalidInput(_("Which service? Usage: `/incident page <PagerDuty service>`."))
    if not deps.settings.pagerduty_from_email:
        raise InvalidInput(
            _("Paging needs PAGERDUTY_FROM_EMAIL (PagerDuty requires a From header for writes).")
        )
    incident_id = _sev_channel(cmd, deps, "/incident page <service>")
    return Outcome(
        reply=_("Paging {service} on PagerDuty…", service=cmd.args),
        followup=followup(
            run_page,
            incident_id=incident_id,
            service=cmd.args,
            user_id=cmd.user_id,
            channel_id=cmd.channel_id,
        ),
    )


def run_link(deps: Deps, *, incident_id: int, ref: str, user_id: str, channel_id: str) -> None:
    """Link a PagerDuty incident and post its alert summary."""
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


def run_alerts(deps: Deps, *, incident_id: int, user_id: str, channel_id: str) -> None:
    """Pull the linked PagerDuty incidents again and post their summaries."""
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


def run_oncall(deps: Deps, *, query: str | None, user_id: str, channel_id: str) -> None:
    """Tell the person who asked who is on call, with a button to invite them."""
    try:
        people = flows.oncall(query, adapter=adapter_of(deps), chat=deps.chat)
    except (InvalidInput, IntegrationError) as exc:
        _report(deps, channel_id, user_id, exc)
        return
    with for_reader():  # only the person who asked sees it
        message = pd_blocks.oncall_message(people, query)
    deps.chat.post_ephemeral(channel_id, user_id, message.text, message.blocks)


def run_page(deps: Deps, *, incident_id: int, service: str, user_id: str, channel_id: str) -> None:
    """Page a PagerDuty service for the incident and link the new PagerDuty incident."""
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


def register(router: CommandRouter) -> None:
    """Register /incident link, alerts, oncall and page."""
    router.subcommand("link", usage=LINK_USAGE, summary=N_("link a PagerDuty incident"))(
        link_command
    )
    router.subcommand(
        "alerts", usage="/incident alerts", summary=N_("pull the linked PagerDuty alerts")
    )(alerts_command)
    router.subcommand(
        "oncall",
        usage="/incident oncall [service or escalation policy]",
        summary=N_("show who is on call in PagerDuty"),
        repeatable=True,
    )(oncall_command)
    router.subcommand(
        "page", usage="/incident page <PagerDuty service>", summary=N_("page a PagerDuty service")
    )(page_command)
