"""The Slack side of incident changes: post updates, announce changes, sync the announcement.

The record side (database, timeline) lives in ``flows``; these run after the ack.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import structlog

from bot.db import session_scope, utcnow
from bot.incidents import service
from bot.incidents.context import IncidentContext, IncidentResolved, claim, release
from bot.incidents.domain import (
    IncidentSnapshot,
    TimelineItem,
    highest_severity,
    snapshot,
    timeline_item,
)
from bot.incidents.flows import Change
from bot.integrations.ports import ChatError, IntegrationError

log = structlog.get_logger(__name__)


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
