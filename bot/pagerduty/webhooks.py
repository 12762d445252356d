"""PagerDuty V3 webhooks: signature check, envelope parsing, an inbox, and its processing.

The HTTP route verifies the signature, calls receive_delivery() and answers 2xx at once;
process_pending() then handles stored deliveries in the background (ids in, own sessions).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.orm import Session, sessionmaker

from bot.db import session_scope, utcnow
from bot.i18n import _
from bot.incidents import service as incidents
from bot.integrations.ports import ChatPort
from bot.observability.tracing import traced
from bot.outbox import service as outbox_service
from bot.outbox.delivery import Outbox
from bot.outbox.service import Outgoing
from bot.pagerduty import service as pd_service
from bot.pagerduty.domain import (
    PdIncident,
    deserves_declare,
    incident_from_api,
    parse_time,
    safe_web_url,
    severity_for,
)
from bot.settings import Settings
from bot.slack.blocks.pagerduty import event_text
from bot.slack.blocks.pagerduty import offer as offer_message

log = structlog.get_logger(__name__)

OFFER_POST = "pagerduty_offer"


EVENT_POST = "pagerduty_event"

LINKED_EVENTS = {
    "incident.acknowledged": "pagerduty_acknowledged",
    "incident.escalated": "pagerduty_escalated",
    "incident.reassigned": "pagerduty_reassigned",
    "incident.annotated": "pagerduty_annotated",
    "incident.resolved": "pagerduty_resolved",
    "incident.reopened": "pagerduty_reopened",
    "incident.priority_updated": "pagerduty_priority_updated",
}
STALE_CLAIM = timedelta(minutes=5)
RETRY_PAUSE = timedelta(minutes=1)
MAX_ATTEMPTS = 30  # about half an hour of Slack trouble before a delivery is given up


@dataclass(frozen=True)
class WebhookEvent:
    """One V3 webhook event: the envelope plus what the bot needs from its data."""

    id: str
    event_type: str
    resource_type: str
    occurred_at: Any
    agent: str | None
    incident_id: str | None
    incident: PdIncident | None
    note: str | None
    data: dict[str, Any] = field(default_factory=dict)


def verify_signature(secrets: list[str], raw_body: bytes, header: str | None) -> bool:
    """Say whether any v1= signature in X-PagerDuty-Signature matches any of our secrets."""
    if not header or not secrets:
        return False
    offered = [part.strip()[3:] for part in header.split(",") if part.strip().startswith("v1=")]
    valid = False
    for secret in secrets:
        expected = hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()
        for signature in offered:
            # Compare every pair so the time taken does not reveal which one matched.
            valid |= hmac.compare_digest(expected.encode(), signature.lower().encode())
    return valid


def webhook_secrets(settings: Settings) -> list[str]:
    """Return the configured webhook secrets (comma-separated for rotation)."""
    raw = settings.pagerduty_webhook_secret
    if raw is None:
        return []
    return [s.strip() for s in raw.get_secret_value().split(",") if s.strip()]


def parse_event(raw_body: bytes | str) -> WebhookEvent:
    """Parse a V3 webhook body; raise ValueError when it is not one (any field mistyped)."""
    try:
        return _parse_event(json.loads(raw_body))
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise ValueError(f"not a PagerDuty V3 webhook event: {exc}") from exc


def _parse_event(payload: Any) -> WebhookEvent:
    if not isinstance(payload, dict) or not isinstance(payload.get("event"), dict):
        raise TypeError("the body must be an object with an event object")
    event = payload["event"]
    data = event.get("data") or {}
    agent = event.get("agent") or {}
    if not isinstance(data, dict) or not isinstance(agent, dict):
        raise TypeError("event.data and event.agent must be objects")
    if not isinstance(event.get("event_type"), str):
        raise TypeError("event.event_type must be a string")
    occurred_at = parse_time(event["occurred_at"])
    incident = None
    incident_id = None
    if data.get("type") == "incident":
        incident = incident_from_api(data)
        incident_id = incident.id
    elif data.get("incident") is not None:
        incident_id = str(_incident_ref(data["incident"]))
    note = data.get("content") if data.get("type") == "incident_note" else None
    if note is not None and not isinstance(note, str):
        raise TypeError("a note's content must be a string")
    return WebhookEvent(
        id=str(event.get("id") or ""),
        event_type=event["event_type"],
        resource_type=str(event.get("resource_type") or ""),
        occurred_at=occurred_at,
        agent=str(agent.get("summary") or agent.get("name") or "") or None,
        incident_id=incident_id,
        incident=incident,
        note=note,
        data=data,
    )


def _incident_ref(ref: Any) -> str:
    if not isinstance(ref, dict) or not isinstance(ref.get("id"), str) or not ref["id"]:
        raise TypeError("event.data.incident must be an object with an id")
    return str(ref["id"])


def receive_delivery(raw_body: bytes, webhook_id: str | None, *, session: Session) -> bool:
    """Store a verified delivery for processing; return False if it is a duplicate."""
    key = webhook_id or "sha256:" + hashlib.sha256(raw_body).hexdigest()
    return pd_service.store_delivery(
        key, raw_body.decode("utf-8", errors="replace"), session=session
    )


@traced("webhook processing")
def process_pending(
    session_factory: sessionmaker[Session],
    chat: ChatPort,
    settings: Settings,
    outbox: Outbox,
    *,
    limit: int = 100,
    now: datetime | None = None,
) -> int:
    """Process stored deliveries; return how many were handled (retried ones excluded)."""
    now = now or utcnow()
    stale_before, retry_before = now - STALE_CLAIM, now - RETRY_PAUSE
    with session_scope(session_factory) as session:
        ids = pd_service.claimable_deliveries(
            session=session, stale_before=stale_before, retry_before=retry_before, limit=limit
        )
    handled = 0
    for delivery_id in ids:
        with session_scope(session_factory) as session:
            delivery = pd_service.claim(
                delivery_id, session=session, stale_before=stale_before, retry_before=retry_before
            )
            if delivery is None:
                continue
            body, attempts = delivery.body, delivery.attempts
        try:
            posts: list[Outgoing] = []
            with session_scope(session_factory) as session:
                outcome, about = _process(
                    body, session=session, chat=chat, settings=settings, posts=posts
                )
                keys = outbox_service.enqueue(posts, session=session)
                pd_service.finish(
                    delivery_id, session=session, status="done", outcome=outcome, event=about
                )
            outbox.deliver(keys)  # recorded with the delivery; the outbox job retries them
            handled += 1
            log.info("pagerduty.webhook_processed", delivery=delivery_id, outcome=outcome, **about)
        except Exception as exc:  # any failure: keep the delivery and retry later
            status = "failed" if attempts >= MAX_ATTEMPTS else "pending"
            log.warning(
                "pagerduty.webhook_failed", delivery=delivery_id, status=status, error=str(exc)
            )
            with session_scope(session_factory) as session:
                pd_service.finish(
                    delivery_id, session=session, status=status, error=str(exc)[:2000]
                )
    return handled


def _process(
    body: str, *, session: Session, chat: ChatPort, settings: Settings, posts: list[Outgoing]
) -> tuple[str, dict[str, str | None]]:
    try:
        event = parse_event(body)
    except ValueError:
        return "malformed", {}
    about: dict[str, str | None] = {
        "event_id": event.id[:64] or None,
        "event_type": event.event_type[:64],
        "pd_incident_id": (event.incident_id or "")[:32] or None,
    }
    if event.incident_id is None:
        return "ignored", about
    linked = pd_service.incident_for_pd(event.incident_id, session=session)
    if event.event_type == "incident.triggered":
        if linked is not None or event.incident is None:
            return "already_linked" if linked else "ignored", about
        outcome = _offer(event.incident, session=session, chat=chat, settings=settings, posts=posts)
        return outcome, about
    if event.event_type not in LINKED_EVENTS:
        return "ignored", about
    if linked is None:
        return "unknown_incident", about
    return _post_event(event, linked, session=session, posts=posts), about


def _offer(
    pd: PdIncident, *, session: Session, chat: ChatPort, settings: Settings, posts: list[Outgoing]
) -> str:
    if not deserves_declare(pd, settings):
        return "below_threshold"
    severity = severity_for(pd, settings)
    channel = chat.resolve_channel(settings.incidents_channel)
    if not pd_service.reserve_offer(pd.id, channel, severity, session=session):
        return "already_offered"
    message = offer_message(pd, severity)
    posts.append(
        Outgoing(
            key=pd_service.offer_key(pd.id),
            kind=OFFER_POST,
            target=channel,
            text=message.text,
            blocks=list(message.blocks or []),
        )
    )
    return "offered"


def _post_event(
    event: WebhookEvent, incident_id: int, *, session: Session, posts: list[Outgoing]
) -> str:
    incident = incidents.get(incident_id, session=session)
    links = {lk.pd_incident_id: lk for lk in pd_service.links_for(incident_id, session=session)}
    link = links.get(event.incident_id or "")
    url = safe_web_url(link.html_url) if link else ""
    label = f"<{url}|#{link.pd_number}>" if link and url else _("incident")
    pd = event.incident
    text = event_text(
        event.event_type,
        label=label,
        agent=event.agent,
        assignees=pd.assignees if pd else (),
        priority=pd.priority if pd else None,
        note=event.note,
    )
    added = incidents.add_timeline_entry(
        incident_id,
        session=session,
        kind=LINKED_EVENTS[event.event_type],
        text=text,
        occurred_at=event.occurred_at,
        dedupe_key=f"pagerduty:event:{event.id}",
        data={
            "pd_incident_id": event.incident_id,
            "event_type": event.event_type,
            "agent": event.agent,
        },
    )
    if not added:
        return "duplicate"
    if incident is None or not incident.channel_id:
        return "no_channel"
    posts.append(
        Outgoing(
            key=f"{incident_id}:pagerduty:{event.id or event.incident_id}:{event.event_type}",
            kind=EVENT_POST,
            target=incident.channel_id,
            text=text,
            incident_id=incident_id,
        )
    )
    return "posted"
