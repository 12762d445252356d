"""PagerDuty use cases behind /incident link|alerts|oncall|page, declare and resolve.

Each flow takes ids, a session factory, the adapter and the chat port; it returns plain results
or raises InvalidInput (the user's mistake) or an IntegrationError (PagerDuty or Slack), so the
listeners only render messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import structlog
from sqlalchemy.orm import Session, sessionmaker

from bot.db import session_scope
from bot.i18n import N_, _, default_language, language, public_
from bot.incidents import service as incidents
from bot.incidents.domain import InvalidInput, incident_label
from bot.incidents.models import Incident
from bot.incidents.privacy import shown_title
from bot.integrations.ports import ChatPort, IntegrationError, NotFound, PagerDutyPort
from bot.outbox import service as outbox
from bot.pagerduty import service as pd_service
from bot.pagerduty.domain import (
    OncallPerson,
    PdAlert,
    PdIncident,
    PdLogEntry,
    incident_ref,
    time_to_acknowledge,
)
from bot.settings import Settings
from bot.slack.blocks.pagerduty import alert_summary, incident_link

if TYPE_CHECKING:
    from bot.deps import Deps

log = structlog.get_logger(__name__)

TIMELINE_ACTIONS = {"trigger", "acknowledge", "escalate", "resolve"}
NOT_CONFIGURED = N_("PagerDuty is not configured here: ask an admin to set PAGERDUTY_API_TOKEN.")


def configured(adapter: PagerDutyPort | None) -> PagerDutyPort:
    """Return the PagerDuty adapter, or raise InvalidInput saying the feature is off."""
    if adapter is None:
        raise InvalidInput(_(NOT_CONFIGURED))
    return adapter


@dataclass(frozen=True)
class AlertSync:
    """What one pull of a linked PagerDuty incident found and recorded."""

    incident: PdIncident
    alerts: list[PdAlert]
    log_entries: list[PdLogEntry]
    time_to_acknowledge: timedelta | None
    new_timeline_entries: int
    message_ts: str | None


def _incident(incident_id: int, session: Session) -> Incident:
    incident = incidents.get(incident_id, session=session)
    if incident is None:
        raise InvalidInput(_("There is no incident with id {id}.", id=incident_id))
    return incident


def _fetch(adapter: PagerDutyPort, ref: str) -> PdIncident:
    try:
        return adapter.get_incident(ref)
    except NotFound as exc:
        raise NotFound(
            _("PagerDuty has no incident {ref}. Check the ID or URL.", ref=repr(ref))
        ) from exc


def link(
    incident_id: int,
    pd_ref: str,
    *,
    session_factory: sessionmaker[Session],
    adapter: PagerDutyPort,
    chat: ChatPort,
    linked_by: str | None = None,
) -> AlertSync:
    """Link a PagerDuty incident (id or URL), then pull its alerts into the channel and timeline."""
    try:
        incident_ref(pd_ref)
    except ValueError as exc:
        raise InvalidInput(
            _(
                "{ref} is not a PagerDuty incident. Use `/incident link <incident ID or URL>`.",
                ref=repr(pd_ref),
            )
        ) from exc
    pd = _fetch(adapter, pd_ref)
    with session_scope(session_factory) as session:
        _incident(incident_id, session)
        try:
            pd_service.link(incident_id, pd, session=session, linked_by=linked_by)
        except pd_service.LinkConflict as exc:
            raise InvalidInput(
                _(
                    "PagerDuty incident #{number} is already linked to another incident.",
                    number=pd.number,
                )
            ) from exc
    return sync(incident_id, pd, session_factory=session_factory, adapter=adapter, chat=chat)


def refresh_alerts(
    incident_id: int,
    *,
    session_factory: sessionmaker[Session],
    adapter: PagerDutyPort,
    chat: ChatPort,
) -> list[AlertSync]:
    """Pull every linked PagerDuty incident again (/incident alerts)."""
    with session_scope(session_factory) as session:
        _incident(incident_id, session)
        refs = [lk.pd_incident_id for lk in pd_service.links_for(incident_id, session=session)]
    if not refs:
        raise InvalidInput(
            _("No PagerDuty incident is linked yet. Use `/incident link <incident ID or URL>`.")
        )
    return [
        sync(
            incident_id,
            _fetch(adapter, ref),
            session_factory=session_factory,
            adapter=adapter,
            chat=chat,
        )
        for ref in refs
    ]


def sync(
    incident_id: int,
    pd: PdIncident,
    *,
    session_factory: sessionmaker[Session],
    adapter: PagerDutyPort,
    chat: ChatPort,
) -> AlertSync:
    """Fetch a linked incident's alerts and log entries, record them and post the summary."""
    alerts = adapter.list_alerts(pd.id)
    entries = adapter.list_log_entries(pd.id)
    tta = time_to_acknowledge(entries)
    added = 0
    with session_scope(session_factory) as session:
        channel = _incident(incident_id, session).channel_id
        for entry in entries:
            if entry.action not in TIMELINE_ACTIONS:
                continue
            added += incidents.add_timeline_entry(
                incident_id,
                session=session,
                kind=f"pagerduty_{entry.action}",
                text=entry.summary,
                occurred_at=entry.created_at,
                dedupe_key=f"pagerduty:log:{entry.id}",
                data={"pd_incident_id": pd.id, "log_entry_id": entry.id, "agent": entry.agent},
            )
    ts = None
    if channel:
        with language(default_language()):  # posted in the channel, for everyone
            message = alert_summary(pd, alerts, entries, tta)
        ts = chat.post_message(channel, message.text, blocks=message.blocks)
    return AlertSync(pd, alerts, entries, tta, added, ts)


def oncall(query: str | None, *, adapter: PagerDutyPort, chat: ChatPort) -> list[OncallPerson]:
    """Return who is on call now (for a service or escalation policy), with their Slack ids."""
    people = []
    for entry in adapter.list_oncalls(query.strip() if query else None):
        user = chat.user_by_email(entry.user_email) if entry.user_email else None
        people.append(
            OncallPerson(
                name=entry.user_name,
                email=entry.user_email,
                slack_user_id=user.id if user else None,
                escalation_policy=entry.escalation_policy_name,
                escalation_level=entry.escalation_level,
                schedule=entry.schedule_name,
            )
        )
    return people


def page(
    incident_id: int,
    service_name: str,
    *,
    session_factory: sessionmaker[Session],
    adapter: PagerDutyPort,
    chat: ChatPort,
    requested_by: str | None = None,
) -> PdIncident:
    """Open a PagerDuty incident on a service, pointing at the SEV channel, and link it."""
    if not service_name.strip():
        raise InvalidInput(_("Name the PagerDuty service to page: `/incident page <service>`."))
    service = adapter.find_service(service_name.strip())
    if service is None:
        raise InvalidInput(
            _("PagerDuty has no service named {name}.", name=repr(service_name.strip()))
        )
    with session_scope(session_factory) as session:
        incident = _incident(incident_id, session)
        label, channel = incident_label(incident.number), incident.channel_id
        # PagerDuty is read by more people than a private channel's members.
        title = shown_title(incident.title, private=incident.is_private)
        kickoff = incident.kickoff_ts
    where = (chat.permalink(channel, kickoff) if channel and kickoff else None) or (
        f"https://slack.com/app_redirect?channel={channel}" if channel else "(no channel yet)"
    )
    body = f"{label}: {title}\nSlack channel: {where}"
    if requested_by:
        body += f"\nPaged from Slack by user {requested_by}"
    pd = adapter.create_incident(
        service.id, f"[{label}] {title}", body, incident_key=f"sevbot-{incident_id}-{service.id}"
    )
    with session_scope(session_factory) as session:
        pd_service.link(incident_id, pd, session=session, linked_by=requested_by)
        incidents.add_timeline_entry(
            incident_id,
            session=session,
            kind="pagerduty_page",
            text=public_(
                "Paged {service} on PagerDuty (#{number})", service=service.name, number=pd.number
            ),
            actor_id=requested_by,
            occurred_at=pd.created_at,
            dedupe_key=f"pagerduty:page:{pd.id}",
            data={"pd_incident_id": pd.id, "service": service.name},
        )
    if channel:
        chat.post_message(
            channel,
            public_(
                ":pager: Paged *{service}* on PagerDuty: {link}",
                service=service.name,
                link=incident_link(pd),
            ),
        )
    return pd


def resolve_linked(
    incident_id: int, *, session_factory: sessionmaker[Session], adapter: PagerDutyPort
) -> list[str]:
    """Resolve the linked PagerDuty incidents not resolved yet; return their ids."""
    with session_scope(session_factory) as session:
        pending = [
            (lk.id, lk.pd_incident_id)
            for lk in pd_service.links_for(incident_id, session=session)
            if lk.resolved_in_pagerduty_at is None
        ]
    done = []
    for link_id, pd_id in pending:
        adapter.resolve_incident(pd_id)
        with session_scope(session_factory) as session:
            pd_service.mark_resolved_in_pagerduty(link_id, session=session)
        done.append(pd_id)
    return done


def on_incident_resolved(
    incident_id: int,
    *,
    settings: Settings,
    session_factory: sessionmaker[Session],
    adapter: PagerDutyPort | None,
    chat: ChatPort,
) -> list[str]:
    """Resolve linked PagerDuty incidents when RESOLVE_PAGERDUTY_ON_RESOLVE is on."""
    if not settings.resolve_pagerduty_on_resolve or adapter is None:
        return []
    try:
        return resolve_linked(incident_id, session_factory=session_factory, adapter=adapter)
    except IntegrationError as exc:
        log.warning("pagerduty.resolve_failed", incident_id=incident_id, problem=str(exc))
        with session_scope(session_factory) as session:
            channel = _incident(incident_id, session).channel_id
        if channel:
            chat.post_message(
                channel,
                public_(":warning: Could not resolve it in PagerDuty: {problem}", problem=exc),
            )
        return []


def mark_offer_declared(
    pd_incident_id: str, incident_id: int, *, session_factory: sessionmaker[Session], chat: ChatPort
) -> None:
    """Turn the Declare offer for a PagerDuty incident into a pointer to the declared SEV."""
    with session_scope(session_factory) as session:
        offer = pd_service.get_offer(pd_incident_id, session=session)
        incident = incidents.get(incident_id, session=session)
        # The offer is posted through the outbox, which keeps where it landed.
        ts = outbox.sent_ts(pd_service.offer_key(pd_incident_id), session=session)
        if offer is None or ts is None or incident is None:
            return
        where, label = offer.channel_id, incident_label(incident.number)
        channel = incident.channel_id
    text = (
        public_(
            ":white_check_mark: Declared as {label} in {channel}",
            label=label,
            channel=f"<#{channel}>",
        )
        if channel
        else public_(":white_check_mark: Declared as {label}", label=label)
    )
    chat.update_message(
        where, ts, text, blocks=[{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    )


def page_on_declare(
    incident_id: int,
    *,
    settings: Settings,
    session_factory: sessionmaker[Session],
    adapter: PagerDutyPort | None,
    chat: ChatPort,
) -> PdIncident | None:
    """Page PAGERDUTY_PAGE_SERVICE for an incident declared at PAGERDUTY_PAGE_ON_SEVERITY+."""
    threshold, service_name = settings.pagerduty_page_on_severity, settings.pagerduty_page_service
    names = settings.severity_names
    if adapter is None or not threshold or not service_name or threshold not in names:
        return None
    with session_scope(session_factory) as session:
        incident = _incident(incident_id, session)
        severity, channel = incident.severity, incident.channel_id
        if pd_service.links_for(incident_id, session=session):
            return None  # it came from PagerDuty, or someone paged already
    if severity not in names or names.index(severity) > names.index(threshold):
        return None
    try:
        return page(
            incident_id, service_name, session_factory=session_factory, adapter=adapter, chat=chat
        )
    except (InvalidInput, IntegrationError) as exc:
        log.warning("pagerduty.page_on_declare_failed", incident_id=incident_id, problem=str(exc))
        if channel:
            chat.post_message(
                channel,
                public_(
                    ":warning: Could not page {service} on PagerDuty: {problem}",
                    service=service_name,
                    problem=exc,
                ),
            )
        return None


def link_after_declare(deps: Deps, incident_id: int, ref: str) -> None:
    """Link the PagerDuty incident a Declare button came from (the core 'pagerduty' link hook)."""
    adapter = deps.pagerduty
    if adapter is None:
        return
    try:
        link(
            incident_id, ref, session_factory=deps.session_factory, adapter=adapter, chat=deps.chat
        )
    except (InvalidInput, NotFound) as exc:  # a bad or vanished reference: nothing to retry
        log.warning(
            "pagerduty.link_after_declare_failed", incident_id=incident_id, problem=str(exc)
        )
        return
    # Any other IntegrationError (an outage) propagates: the link stays pending and is retried.
    mark_offer_declared(ref, incident_id, session_factory=deps.session_factory, chat=deps.chat)
