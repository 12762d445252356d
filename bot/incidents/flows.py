"""Running an incident: updates, severity, status and role changes, resolve and reopen.

Each change is written to the database synchronously (fast, before Slack is acknowledged);
the Slack side effects happen afterwards in `announce_change`/`sync_incident`, which a
restart resumes because every change bumps `revision`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import structlog
from sqlalchemy.orm import Session

from bot.db import session_scope, utcnow
from bot.incidents import service
from bot.incidents.context import (
    IncidentChanged,
    IncidentContext,
    IncidentResolved,
    claim,
    release,
)
from bot.incidents.declare import validate_severity
from bot.incidents.domain import (
    IncidentSnapshot,
    InvalidInput,
    TimelineItem,
    highest_severity,
    snapshot,
    timeline_item,
)
from bot.incidents.models import ROLES, STATUSES, Incident
from bot.integrations.ports import IntegrationError
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
            "This command only works in an incident channel. "
            "Run it in the channel of the incident you mean (see `/incident list`)."
        )
    return incident


def _bump(incident: Incident) -> None:
    incident.revision += 1


def record_update(
    channel_id: str, text: str, author_id: str, *, session_factory: Callable[[], Session]
) -> int:
    """Record a status update in the timeline and return the incident id."""
    text = text.strip()
    if not text:
        raise InvalidInput(
            "Please write the update, e.g. `/incident update Rolled back the deploy`."
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


def post_update(incident_id: int, text: str, author_id: str, ctx: IncidentContext) -> None:
    """Post a recorded update in the channel and under the announcement."""
    with session_scope(ctx.session_factory) as session:
        incident = service.get(incident_id, session=session)
        assert incident is not None
        view = snapshot(incident)
    message = ctx.presenter.status_update(view, text, author_id)
    targets: list[tuple[str, str | None]] = []
    if view.channel_id:
        targets.append((view.channel_id, None))
    if view.announcement_channel_id and view.announcement_ts:
        targets.append((view.announcement_channel_id, view.announcement_ts))
    _parallel(
        [
            functools.partial(ctx.chat.post_message, c, message.text, message.blocks, t)
            for c, t in targets
        ]
    )


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
            raise InvalidInput(f"INC-{incident.number} is already {severity}.")
        incident.severity = severity
        _bump(incident)
        text = f"Severity changed from {old} to {severity}"
        service.add_timeline_entry(
            incident.id,
            session=session,
            kind="severity",
            text=text,
            actor_id=actor_id,
            data={"from": old, "to": severity},
        )
        return Change(
            incident.id, text, actor_id, IncidentChanged(incident.id, "severity", old, severity)
        )


def change_status(
    channel_id: str, status: str, actor_id: str, *, session_factory: Callable[[], Session]
) -> Change:
    """Set a new status; 'resolved' resolves the incident (without a summary)."""
    status = status.strip().lower()
    if status not in STATUSES:
        raise InvalidInput(f"`{status}` is not a status. Use one of: {', '.join(STATUSES)}.")
    if status == "resolved":
        return resolve(channel_id, "", actor_id, session_factory=session_factory)
    with session_scope(session_factory) as session:  # type: ignore[arg-type]
        incident = _open_incident(channel_id, session)
        if not incident.is_open:
            raise InvalidInput(f"INC-{incident.number} is resolved. Use `/incident reopen` first.")
        old = incident.status
        if old == status:
            raise InvalidInput(f"INC-{incident.number} is already {status}.")
        incident.status = status
        _bump(incident)
        text = f"Status changed from {old} to {status}"
        service.add_timeline_entry(
            incident.id,
            session=session,
            kind="status",
            text=text,
            actor_id=actor_id,
            data={"from": old, "to": status},
        )
        return Change(
            incident.id, text, actor_id, IncidentChanged(incident.id, "status", old, status)
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
        raise InvalidInput(f"`{role}` is not a role. Use one of: {', '.join(ROLES)}.")
    with session_scope(session_factory) as session:  # type: ignore[arg-type]
        incident = _open_incident(channel_id, session)
        old = incident.role_holder(role)
        if old == user_id:
            raise InvalidInput(f"<@{user_id}> is already {role}.")
        setattr(incident, f"{role}_id", user_id)
        _bump(incident)
        text = f"{role.capitalize()} is now <@{user_id}>"
        service.add_timeline_entry(
            incident.id,
            session=session,
            kind="role",
            text=text,
            actor_id=actor_id,
            data={"role": role, "from": old, "to": user_id},
        )
        return Change(incident.id, text, actor_id, IncidentChanged(incident.id, role, old, user_id))


def resolve(
    channel_id: str, summary: str, actor_id: str, *, session_factory: Callable[[], Session]
) -> Change:
    """Resolve the incident with an optional summary."""
    with session_scope(session_factory) as session:  # type: ignore[arg-type]
        incident = _open_incident(channel_id, session)
        if not incident.is_open:
            raise InvalidInput(f"INC-{incident.number} is already resolved.")
        now = utcnow()
        old = incident.status
        incident.status, incident.resolved_at = "resolved", now
        incident.summary = summary.strip() or incident.summary
        _bump(incident)
        text = "Resolved" + (f": {summary.strip()}" if summary.strip() else "")
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
            raise InvalidInput(f"INC-{incident.number} is not resolved.")
        incident.status, incident.resolved_at = "investigating", None
        # Reopening is news: the silence clock restarts now, not at the last message before
        # the resolve (which would make the update nudge fire at once).
        incident.last_update_at = utcnow()
        _bump(incident)
        text = "Reopened; status is investigating"
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


def announce_change(change: Change, ctx: IncidentContext) -> None:
    """State a change in the incident channel, then bring announcement and topic up to date."""
    with session_scope(ctx.session_factory) as session:
        incident = service.get(change.incident_id, session=session)
        assert incident is not None
        view = snapshot(incident)
        items = [timeline_item(e) for e in service.timeline(incident.id, session=session)]
    tasks: list[Callable[[], object]] = []
    if view.channel_id:
        notice = ctx.presenter.change_notice(view, change.text, change.actor_id)
        tasks.append(
            lambda: ctx.chat.post_message(view.channel_id or "", notice.text, notice.blocks)
        )
        if isinstance(change.event, IncidentResolved):
            order = ctx.settings.severity_names
            top = highest_severity(_initial(items, view), items, order)
            duration = ((view.resolved_at or utcnow()) - view.declared_at).total_seconds()
            summary = ctx.presenter.resolved_summary(view, top, duration)
            tasks.append(
                lambda: ctx.chat.post_message(view.channel_id or "", summary.text, summary.blocks)
            )
    try:
        _parallel(tasks)
    except IntegrationError:
        log.warning("change_notice_failed", incident_id=change.incident_id)
    sync_incident(change.incident_id, ctx)
    if change.event is not None:
        ctx.bus.publish(change.event)


def _initial(items: list[TimelineItem], view: IncidentSnapshot) -> str:
    """Return the severity the incident was declared with."""
    for item in items:
        if item.kind == "severity":
            return str(item.data.get("from"))
    return view.severity


def sync_incident(incident_id: int, ctx: IncidentContext) -> bool:
    """Re-render the announcement, kickoff and topic up to the latest revision.

    A change committed while another worker holds the lease is picked up by that worker: it
    re-reads the revision after releasing the lease and syncs again (and the resume job
    catches anything left behind).
    """
    synced = False
    for _ in range(5):
        if not _sync_once(incident_id, ctx):
            return synced
        synced = True
        with session_scope(ctx.session_factory) as session:
            incident = service.get(incident_id, session=session)
            if incident is None or incident.synced_revision >= incident.revision:
                return True
    return synced


def _sync_once(incident_id: int, ctx: IncidentContext) -> bool:
    with session_scope(ctx.session_factory) as session:
        incident = service.get(incident_id, session=session)
        if incident is None or incident.setup_done_at is None:
            return False  # setup renders the latest state itself
        if not claim(incident_id, session=session):
            return False
        revision = incident.revision
        view = snapshot(incident)
    try:
        tasks: list[Callable[[], object]] = []
        if view.announcement_channel_id and view.announcement_ts:
            ann = ctx.presenter.announcement(view)
            tasks.append(
                lambda: ctx.chat.update_message(
                    view.announcement_channel_id or "",
                    view.announcement_ts or "",
                    ann.text,
                    ann.blocks,
                )
            )
        if view.channel_id:
            tasks.append(
                lambda: ctx.chat.set_topic(view.channel_id or "", ctx.presenter.topic(view))
            )
            if view.kickoff_ts:
                kick = ctx.presenter.kickoff(view)
                tasks.append(
                    lambda: ctx.chat.update_message(
                        view.channel_id or "", view.kickoff_ts or "", kick.text, kick.blocks
                    )
                )
        _parallel(tasks)
    except IntegrationError as exc:
        log.warning("incident_sync_failed", incident_id=incident_id, problem=str(exc))
        return False
    finally:
        with session_scope(ctx.session_factory) as session:
            release(incident_id, session=session)
    with session_scope(ctx.session_factory) as session:
        incident = service.get(incident_id, session=session)
        assert incident is not None
        incident.synced_revision = max(incident.synced_revision, revision)
    return True


def _parallel(tasks: list[Callable[[], object]]) -> None:
    """Run independent Slack calls concurrently and re-raise the first failure."""
    if not tasks:
        return
    if len(tasks) == 1:
        tasks[0]()
        return
    with ThreadPoolExecutor(max_workers=len(tasks)) as pool:
        futures = [pool.submit(task) for task in tasks]
    for future in futures:
        error = future.exception()
        if error is not None:
            raise error
