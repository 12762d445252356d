"""The Slack side of incident changes: what to post (recorded in the outbox), and the sync.

The flows record a change and, in the same transaction, the posts that report it (``queue_*``);
the outbox sends them after the commit. The announcement, kickoff and topic are edited in
place up to the latest revision by ``sync_incident``, which a restart resumes.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import structlog
from sqlalchemy.orm import Session

from bot.db import session_scope, utcnow
from bot.events import encode_event
from bot.incidents import service
from bot.incidents.context import IncidentContext
from bot.incidents.domain import (
    IncidentSnapshot,
    TimelineItem,
    highest_severity,
    snapshot,
    timeline_item,
)
from bot.incidents.events import IncidentResolved
from bot.incidents.lease import claim, release
from bot.incidents.models import Incident
from bot.integrations.ports import ChatError, IntegrationError
from bot.outbox import service as outbox
from bot.outbox.service import EVENT, Claimed, Outgoing

log = structlog.get_logger(__name__)

UPDATE_POST = "incident_update"
CHANGE_NOTICE = "incident_notice"
RESOLVED_SUMMARY = "incident_summary"
ROLE_INVITE = "role_invite"


def queue_update(
    session: Session,
    incident: Incident,
    update_id: str,
    text: str,
    author_id: str,
    ctx: IncidentContext,
) -> list[str]:
    """Record the posts of a status update: in the channel and under the announcement."""
    view = snapshot(incident)
    message = ctx.presenter.status_update(view, text, author_id)
    posts: list[tuple[str, str, str | None]] = []
    if view.channel_id:
        posts.append(("channel", view.channel_id, None))
    # A private incident's notice is redacted: its updates stay in the private channel.
    if view.announcement_channel_id and view.announcement_ts and not view.is_private:
        posts.append(("thread", view.announcement_channel_id, view.announcement_ts))
    return outbox.enqueue(
        [
            Outgoing(
                key=f"{incident.id}:status-update:{update_id}:{where}",
                kind=UPDATE_POST,
                target=channel,
                thread_ts=thread_ts,
                text=message.text,
                blocks=list(message.blocks or []),
                incident_id=incident.id,
            )
            for where, channel, thread_ts in posts
        ],
        session=session,
    )


def queue_change(
    session: Session,
    incident: Incident,
    text: str,
    actor_id: str,
    event: object,
    ctx: IncidentContext,
) -> list[str]:
    """Record the notice of a change (and the summary of a resolve), then the domain event."""
    session.flush()
    view = snapshot(incident)
    key = f"{incident.id}:r{incident.revision}"
    rows: list[Outgoing] = []
    if view.channel_id:
        notice = ctx.presenter.change_notice(view, text, actor_id)
        rows.append(_post(f"{key}:notice", CHANGE_NOTICE, view, notice.text, notice.blocks))
        if isinstance(event, IncidentResolved):
            items = [timeline_item(e) for e in service.timeline(incident.id, session=session)]
            top = highest_severity(_initial(items, view), items, ctx.settings.severity_names)
            duration = ((view.resolved_at or utcnow()) - view.declared_at).total_seconds()
            summary = ctx.presenter.resolved_summary(view, top, duration)
            rows.append(
                _post(f"{key}:summary", RESOLVED_SUMMARY, view, summary.text, summary.blocks)
            )
    rows.append(event_row(f"{key}:event", incident.id, event))
    return outbox.enqueue(rows, session=session)


def queue_role_invite(
    session: Session, incident: Incident, user_id: str, role: str, actor_id: str
) -> list[str]:
    """Record that a new role holder must be in the channel (invited if not a member)."""
    return outbox.enqueue(
        [
            Outgoing(
                key=f"{incident.id}:r{incident.revision}:invite",
                kind=ROLE_INVITE,
                target=incident.channel_id or "",
                incident_id=incident.id,
                payload={"user_id": user_id, "role": role, "actor_id": actor_id},
            )
        ],
        session=session,
    )


def invite_role_holder(item: Claimed, *, ctx: IncidentContext) -> tuple[str | None, str | None]:
    """Invite a role holder who is not in the channel yet, and tell the channel (outbox handler).

    A person Slack refuses keeps the role; the one who assigned it is told why.
    """
    args = item.payload or {}
    user_id, role, actor_id = str(args["user_id"]), str(args["role"]), str(args["actor_id"])
    channel = item.target
    if item.attempts_before > 0 and ctx.chat.find_tagged(
        channel, item.key, oldest=item.created_at.timestamp() - 120
    ):
        return channel, None
    if user_id in ctx.chat.channel_members(channel):
        return channel, None
    refused = ctx.chat.invite(channel, [user_id])
    if refused:
        ctx.chat.post_ephemeral(
            channel,
            actor_id,
            f"<@{user_id}> is {role} now, but Slack would not add them to this channel "
            "(deactivated or unknown). Invite them by hand, or give the role to someone else.",
        )
        return channel, None
    posted = ctx.chat.post_tagged(
        channel, f"<@{actor_id}> added <@{user_id}> to the channel as {role}.", [], key=item.key
    )
    return posted.channel_id, posted.ts


def event_row(key: str, incident_id: int, event: object) -> Outgoing:
    """Return the outbox row that publishes a domain event once the change has committed."""
    return Outgoing(key=key, kind=EVENT, incident_id=incident_id, payload=encode_event(event))


def _post(
    key: str, kind: str, view: IncidentSnapshot, text: str, blocks: list[dict[str, object]] | None
) -> Outgoing:
    return Outgoing(
        key=key,
        kind=kind,
        target=view.channel_id or "",
        text=text,
        blocks=list(blocks or []),
        incident_id=view.id,
    )


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
    with session_scope(ctx.session_factory) as session:
        incident = service.get(incident_id, session=session)
        if incident is None or incident.synced_revision >= incident.revision:
            return True
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
        _parallel([_unless_gone(task) for task in tasks])
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


# Slack answers that will never change on a retry: the target is gone (deleted, archived).
_GONE = {
    "message_not_found",
    "channel_not_found",
    "is_archived",
    "cant_update_message",
    "edit_window_closed",
    "not_in_channel",
}


def _unless_gone(task: Callable[[], object]) -> Callable[[], object]:
    """Skip a sync target Slack says is gone, instead of retrying it forever."""

    def run() -> object:
        try:
            return task()
        except ChatError as exc:
            if exc.code not in _GONE:
                raise
            log.warning("incident_sync_target_gone", problem=str(exc))
            return None

    return run


def _parallel(tasks: list[Callable[[], object]]) -> None:
    """Run independent Slack calls concurrently and re-raise the first failure."""
    if not tasks:
        return
    if len(tasks) == 1:
        tasks[0]()
        return
    with ThreadPoolExecutor(max_workers=len(tasks)) as pool:
        futures = [pool.submit(contextvars.copy_context().run, task) for task in tasks]
    for future in futures:
        error = future.exception()
        if error is not None:
            raise error
