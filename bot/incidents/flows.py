"""Running an incident: updates, severity, status and role changes, resolve and reopen.

Each change is written to the database synchronously (fast, before Slack is acknowledged);
the Slack side effects happen afterwards in `announce` (post, announce, sync), which a
restart resumes because every change bumps `revision`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy.orm import Session

from bot.db import session_scope, utcnow
from bot.i18n import _, public_, status_label
from bot.incidents import service
from bot.incidents.context import (
    IncidentChanged,
    IncidentResolved,
)
from bot.incidents.declare import validate_severity
from bot.incidents.domain import IncidentSnapshot, InvalidInput, snapshot
from bot.incidents.models import ROLES, STATUSES, Incident
from bot.settings import Settings

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Change:
    """A recorded change, ready to be announced."""

    incident_id: int
    text: str
    actor_id: str
    event: object | None = None


def _open_incident(channel_id: str, session: Session) -> Incident:
    incident = service.get_by_channel(channel_id, session=session)
    if incident is None:
        raise InvalidInput(
            _(
                "This command only works in an incident channel. "
                "Run it in the channel of the incident you mean (see `/incident list`)."
            )
        )
    return incident


def _bump(incident: Incident) -> None:
    incident.revision += 1


def _record_change(
    session: Session,
    incident: Incident,
    actor_id: str,
    *,
    kind: str,
    field: str,
    old: str | None,
    new: str,
    text: str,
    data: dict[str, Any],
) -> Change:
    """Bump the revision, add the timeline entry and return the change to announce."""
    _bump(incident)
    service.add_timeline_entry(
        incident.id, session=session, kind=kind, text=text, actor_id=actor_id, data=data
    )
    return Change(incident.id, text, actor_id, IncidentChanged(incident.id, field, old, new))


def record_update(
    channel_id: str, text: str, author_id: str, *, session_factory: Callable[[], Session]
) -> int:
    """Record a status update in the timeline and return the incident id."""
    text = text.strip()
    if not text:
        raise InvalidInput(
            _("Please write the update, e.g. `/incident update Rolled back the deploy`.")
        )
    with session_scope(session_factory) as session:  # type: ignore[arg-type]
        incident = _open_incident(channel_id, session)
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
        return incident.id


def change_severity(
    channel_id: str,
    raw: str,
    actor_id: str,
    *,
    session_factory: Callable[[], Session],
    settings: Settings,
) -> Change:
    """Set a new severity; raise InvalidInput for an unknown or unchanged one."""
    from bot.text import normalise_severity

    severity = normalise_severity(raw, settings.severity_names) or raw.strip()
    validate_severity(severity, settings)
    with session_scope(session_factory) as session:  # type: ignore[arg-type]
        incident = _open_incident(channel_id, session)
        old = incident.severity
        if old == severity:
            raise InvalidInput(
                _("INC-{number} is already {state}.", number=incident.number, state=severity)
            )
        incident.severity = severity
        return _record_change(
            session,
            incident,
            actor_id,
            kind="severity",
            field="severity",
            old=old,
            new=severity,
            text=public_("Severity changed from {old} to {new}", old=old, new=severity),
            data={"from": old, "to": severity},
        )


def change_status(
    channel_id: str, status: str, actor_id: str, *, session_factory: Callable[[], Session]
) -> Change:
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
        return resolve(channel_id, "", actor_id, session_factory=session_factory)
    with session_scope(session_factory) as session:  # type: ignore[arg-type]
        incident = _open_incident(channel_id, session)
        if not incident.is_open:
            raise InvalidInput(
                _(
                    "INC-{number} is resolved. Use `/incident reopen` first.",
                    number=incident.number,
                )
            )
        old = incident.status
        if old == status:
            raise InvalidInput(
                _(
                    "INC-{number} is already {state}.",
                    number=incident.number,
                    state=status_label(status),
                )
            )
        incident.status = status
        return _record_change(
            session,
            incident,
            actor_id,
            kind="status",
            field="status",
            old=old,
            new=status,
            text=public_(
                "Status changed from {old} to {new}",
                old=status_label(old, public=True),
                new=status_label(status, public=True),
            ),
            data={"from": old, "to": status},
        )


def assign_role(
    channel_id: str,
    role: str,
    user_id: str,
    actor_id: str,
    *,
    session_factory: Callable[[], Session],
) -> Change:
    """Give a role to a user."""
    role = role.strip().lower()
    if role not in ROLES:
        raise InvalidInput(
            _("`{role}` is not a role. Use one of: {choices}.", role=role, choices=", ".join(ROLES))
        )
    with session_scope(session_factory) as session:  # type: ignore[arg-type]
        incident = _open_incident(channel_id, session)
        old = incident.role_holder(role)
        if old == user_id:
            raise InvalidInput(
                _("{user} is already {role}.", user=f"<@{user_id}>", role=_(role.capitalize()))
            )
        setattr(incident, f"{role}_id", user_id)
        return _record_change(
            session,
            incident,
            actor_id,
            kind="role",
            field=role,
            old=old,
            new=user_id,
            text=public_(
                "{role} is now {user}", role=public_(role.capitalize()), user=f"<@{user_id}>"
            ),
            data={"role": role, "from": old, "to": user_id},
        )


def resolve(
    channel_id: str, summary: str, actor_id: str, *, session_factory: Callable[[], Session]
) -> Change:
    """Resolve the incident with an optional summary."""
    with session_scope(session_factory) as session:  # type: ignore[arg-type]
        incident = _open_incident(channel_id, session)
        if not incident.is_open:
            raise InvalidInput(_("INC-{number} is already resolved.", number=incident.number))
        now = utcnow()
        old = incident.status
        incident.status, incident.resolved_at = "resolved", now
        incident.summary = summary.strip() or incident.summary
        _bump(incident)
        text = (
            public_("Resolved: {summary}", summary=summary.strip())
            if summary.strip()
            else public_("Resolved")
        )
        service.add_timeline_entry(
            incident.id,
            session=session,
            kind="resolved",
            text=text,
            actor_id=actor_id,
            occurred_at=now,
            data={"from": old, "to": "resolved"},
        )
        return Change(incident.id, text, actor_id, IncidentResolved(incident.id))


def reopen(channel_id: str, actor_id: str, *, session_factory: Callable[[], Session]) -> Change:
    """Reopen a resolved incident."""
    with session_scope(session_factory) as session:  # type: ignore[arg-type]
        incident = _open_incident(channel_id, session)
        if incident.is_open:
            raise InvalidInput(_("INC-{number} is not resolved.", number=incident.number))
        incident.status, incident.resolved_at = "investigating", None
        # Reopening is news: the silence clock restarts now, not at the last message before
        # the resolve (which would make the update nudge fire at once).
        incident.last_update_at = utcnow()
        _bump(incident)
        text = public_("Reopened; status is investigating")
        service.add_timeline_entry(
            incident.id,
            session=session,
            kind="reopened",
            text=text,
            actor_id=actor_id,
            data={"from": "resolved", "to": "investigating"},
        )
        return Change(
            incident.id,
            text,
            actor_id,
            IncidentChanged(incident.id, "status", "resolved", "investigating"),
        )


def list_active(*, session_factory: Callable[[], Session]) -> list[IncidentSnapshot]:
    """Return the open incidents, for /incident list and App Home."""
    with session_scope(session_factory) as session:  # type: ignore[arg-type]
        return [snapshot(incident) for incident in service.list_open(session=session)]
