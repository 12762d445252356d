"""Running an incident: updates, severity, status and role changes, resolve and reopen.

Each change is written to the database synchronously (fast, before Slack is acknowledged),
together with the posts that report it and its domain event, in one transaction (the outbox).
The caller delivers those after the commit; the outbox job retries whatever a crash or an
outage left unsent, and `announce.sync_incident` brings the announcement, topic and kickoff
up to the latest revision.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy.orm import Session, sessionmaker

from bot.db import session_scope, utcnow
from bot.i18n import _, public_, status_label
from bot.incidents import announce, service
from bot.incidents.context import IncidentContext
from bot.incidents.declare import validate_severity
from bot.incidents.domain import (
    IncidentSnapshot,
    InvalidInput,
    incident_label,
    snapshot,
    validate_update_text,
)
from bot.incidents.events import IncidentChanged, IncidentResolved
from bot.incidents.models import ROLES, STATUSES, Incident
from bot.observability.tracing import traced
from bot.text import mention

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Change:
    """A recorded change and the outbox rows that report it, to deliver after the commit."""

    incident_id: int
    text: str
    actor_id: str
    keys: tuple[str, ...] = ()


def channel_incident(channel_id: str, *, session: Session, usage: str | None = None) -> Incident:
    """Return the incident of this channel, or refuse, saying where the command works."""
    incident = service.get_by_channel(channel_id, session=session)
    if incident is not None:
        return incident
    if usage is not None:
        raise InvalidInput(_("Run `{usage}` in an incident's channel.", usage=usage))
    raise InvalidInput(
        _(
            "This command only works in an incident channel. "
            "Run it in the channel of the incident you mean (see `/incident list`)."
        )
    )


def find_channel_incident(
    channel_id: str, *, session_factory: sessionmaker[Session], usage: str | None = None
) -> IncidentSnapshot:
    """Return the incident of this channel (in a session of its own), or refuse like above."""
    with session_scope(session_factory) as session:
        return snapshot(channel_incident(channel_id, session=session, usage=usage))


def _record_change(
    session: Session,
    incident: Incident,
    actor_id: str,
    event: object,
    ctx: IncidentContext,
    *,
    kind: str,
    text: str,
    data: dict[str, object],
    occurred_at: datetime | None = None,
) -> Change:
    """Bump the revision, add the timeline entry and record the notice and event to send."""
    incident.revision += 1
    service.add_timeline_entry(
        incident.id,
        session=session,
        kind=kind,
        text=text,
        actor_id=actor_id,
        data=dict(data),
        occurred_at=occurred_at,
    )
    keys = announce.queue_change(session, incident, text, actor_id, event, ctx)
    return Change(incident.id, text, actor_id, tuple(keys))


@traced("update")
def record_update(channel_id: str, text: str, author_id: str, *, ctx: IncidentContext) -> Change:
    """Record a status update in the timeline, with its posts, and return what to deliver."""
    text = validate_update_text(text)
    with session_scope(ctx.session_factory) as session:
        incident = channel_incident(channel_id, session=session)
        now = utcnow()
        incident.last_update_at = now
        service.add_timeline_entry(
            incident.id,
            session=session,
            kind="update",
            text=text,
            actor_id=author_id,
            occurred_at=now,
        )
        keys = announce.queue_update(session, incident, uuid.uuid4().hex, text, author_id, ctx)
        return Change(incident.id, text, author_id, tuple(keys))


def change_severity(channel_id: str, raw: str, actor_id: str, *, ctx: IncidentContext) -> Change:
    """Set a new severity; raise InvalidInput for an unknown or unchanged one."""
    from bot.text import normalise_severity

    settings = ctx.settings
    severity = normalise_severity(raw, settings.severity_names) or raw.strip()
    validate_severity(severity, settings)
    with session_scope(ctx.session_factory) as session:
        incident = channel_incident(channel_id, session=session)
        old = incident.severity
        if old == severity:
            raise InvalidInput(
                _(
                    "{label} is already {state}.",
                    label=incident_label(incident.number),
                    state=severity,
                )
            )
        incident.severity = severity
        return _record_change(
            session,
            incident,
            actor_id,
            IncidentChanged(incident.id, "severity", old, severity),
            ctx,
            kind="severity",
            text=public_("Severity changed from {old} to {new}", old=old, new=severity),
            data={"from": old, "to": severity},
        )


def change_status(channel_id: str, status: str, actor_id: str, *, ctx: IncidentContext) -> Change:
    """Set a new status; 'resolved' resolves the incident (without a summary)."""
    status = status.strip().lower()
    if status not in STATUSES:
        raise InvalidInput(
            _(
                "`{status}` is not a status. Use one of: {choices}.",
                status=status,
                choices=", ".join(STATUSES),
            )
        )
    if status == "resolved":
        return resolve(channel_id, "", actor_id, ctx=ctx)
    with session_scope(ctx.session_factory) as session:
        incident = channel_incident(channel_id, session=session)
        if not incident.is_open:
            raise InvalidInput(
                _(
                    "{label} is resolved. Use `/incident reopen` first.",
                    label=incident_label(incident.number),
                )
            )
        old = incident.status
        if old == status:
            raise InvalidInput(
                _(
                    "{label} is already {state}.",
                    label=incident_label(incident.number),
                    state=status_label(status),
                )
            )
        incident.status = status
        return _record_change(
            session,
            incident,
            actor_id,
            IncidentChanged(incident.id, "status", old, status),
            ctx,
            kind="status",
            text=public_(
                "Status changed from {old} to {new}",
                old=status_label(old, public=True),
                new=status_label(status, public=True),
            ),
            data={"from": old, "to": status},
        )


def assign_role(
    channel_id: str, role: str, user_id: str, actor_id: str, *, ctx: IncidentContext
) -> Change:
    """Give a role to a user, and make sure they are in the channel."""
    role = role.strip().lower()
    if role not in ROLES:
        raise InvalidInput(
            _("`{role}` is not a role. Use one of: {choices}.", role=role, choices=", ".join(ROLES))
        )
    with session_scope(ctx.session_factory) as session:
        incident = channel_incident(channel_id, session=session)
        old = incident.role_holder(role)
        if old == user_id:
            raise InvalidInput(
                _("{user} is already {role}.", user=mention(user_id), role=_(role.capitalize()))
            )
        setattr(incident, f"{role}_id", user_id)
        change = _record_change(
            session,
            incident,
            actor_id,
            IncidentChanged(incident.id, role, old, user_id),
            ctx,
            kind="role",
            text=public_(
                "{role} is now {user}", role=public_(role.capitalize()), user=mention(user_id)
            ),
            data={"role": role, "from": old, "to": user_id},
        )
        invite = announce.queue_role_invite(session, incident, user_id, role, actor_id)
        return Change(change.incident_id, change.text, actor_id, (*invite, *change.keys))


def resolve(channel_id: str, summary: str, actor_id: str, *, ctx: IncidentContext) -> Change:
    """Resolve the incident with an optional summary."""
    with session_scope(ctx.session_factory) as session:
        incident = channel_incident(channel_id, session=session)
        if not incident.is_open:
            raise InvalidInput(
                _("{label} is already resolved.", label=incident_label(incident.number))
            )
        now = utcnow()
        old = incident.status
        incident.status, incident.resolved_at = "resolved", now
        incident.summary = summary.strip() or incident.summary
        text = (
            public_("Resolved: {summary}", summary=summary.strip())
            if summary.strip()
            else public_("Resolved")
        )
        return _record_change(
            session,
            incident,
            actor_id,
            IncidentResolved(incident.id),
            ctx,
            kind="resolved",
            text=text,
            data={"from": old, "to": "resolved"},
            occurred_at=now,
        )


def reopen(channel_id: str, actor_id: str, *, ctx: IncidentContext) -> Change:
    """Reopen a resolved incident."""
    with session_scope(ctx.session_factory) as session:
        incident = channel_incident(channel_id, session=session)
        if incident.is_open:
            raise InvalidInput(_("{label} is not resolved.", label=incident_label(incident.number)))
        incident.status, incident.resolved_at = "investigating", None
        # Reopening is news: the silence clock restarts now, not at the last message before
        # the resolve (which would make the update nudge fire at once).
        incident.last_update_at = utcnow()
        return _record_change(
            session,
            incident,
            actor_id,
            IncidentChanged(incident.id, "status", "resolved", "investigating"),
            ctx,
            kind="reopened",
            text=public_("Reopened; status is investigating"),
            data={"from": "resolved", "to": "investigating"},
        )


def deliver_change(change: Change, ctx: IncidentContext) -> None:
    """Send what a change recorded, then bring the announcement, topic and kickoff up to date."""
    ctx.outbox.deliver(change.keys)
    announce.sync_incident(change.incident_id, ctx)


def list_active(*, session_factory: Callable[[], Session]) -> list[IncidentSnapshot]:
    """Return the open incidents, for /incident list and App Home."""
    with session_scope(session_factory) as session:  # type: ignore[arg-type]
        return [snapshot(incident) for incident in service.list_open(session=session)]
