"""Background work of the postmortems feature: each function takes Deps and ids, never ORM rows."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import structlog
from sqlalchemy.orm import Session

from bot.db import session_scope, utcnow
from bot.incidents import service as incidents
from bot.integrations.ports import IntegrationError, NotionPort
from bot.postmortems import service
from bot.postmortems.digest import build_digest
from bot.postmortems.export import (
    ExportResult,
    export_postmortem,
    push_properties,
    retry_pending_exports,
)
from bot.postmortems.sync import SyncSummary, sync_from_notion

if TYPE_CHECKING:
    from bot.deps import Deps

log = structlog.get_logger(__name__)

# A resolve whose event was lost to a crash is picked up if it happened this recently.
SWEEP_WINDOW = timedelta(days=1)


def notion_of(deps: Deps) -> NotionPort | None:
    """Return the Notion adapter installed on deps, or None when Notion is not configured."""
    return deps.notion


def export_now(deps: Deps, incident_id: int, *, tell_channel: bool = True) -> ExportResult:
    """Create or update the incident's postmortem page right away (queued if Notion fails)."""
    return export_postmortem(
        incident_id,
        session_factory=deps.session_factory,
        notion=notion_of(deps),
        chat=deps.chat,
        settings=deps.settings,
        tell_channel=tell_channel,
        outbox=deps.outbox,
    )


def on_resolved(deps: Deps, incident_id: int) -> ExportResult | None:
    """Track the postmortem of a resolved incident; export it when POSTMORTEM_CREATE_ON=resolve."""
    if deps.settings.postmortem_create_on == "resolve" and _auto(deps, incident_id):
        return export_now(deps, incident_id)
    with session_scope(deps.session_factory) as session:
        service.get_or_create(incident_id, session=session)
    return None


def push_now(deps: Deps, incident_id: int) -> bool:
    """Write the meeting and status recorded in Slack to the incident's page."""
    return push_properties(
        incident_id,
        session_factory=deps.session_factory,
        notion=notion_of(deps),
        settings=deps.settings,
    )


def _auto(deps: Deps, incident_id: int, session: Session | None = None) -> bool:
    """Say whether a resolve may file the postmortem by itself.

    A private incident's postmortem goes only to NOTION_PRIVATE_POSTMORTEM_DATABASE_ID; without
    it, only `/incident postmortem` (in the private channel) files it.
    """
    if deps.settings.notion_private_postmortem_database_id:
        return True
    if session is None:
        with session_scope(deps.session_factory) as own:
            return _auto(deps, incident_id, session=own)
    incident = incidents.get(incident_id, session=session)
    return incident is not None and not incident.is_private


def run_export_queue(deps: Deps) -> list[ExportResult]:
    """Retry queued exports, after queueing recent resolves whose event a crash swallowed."""
    now = utcnow()
    export = deps.settings.postmortem_create_on == "resolve" and notion_of(deps) is not None
    with session_scope(deps.session_factory) as session:
        missed = service.resolved_without_postmortem(session=session, since=now - SWEEP_WINDOW)
        for incident_id in missed:
            if export and _auto(deps, incident_id, session=session):
                service.enqueue_export(incident_id, session=session)
            else:
                service.get_or_create(incident_id, session=session)
    return retry_pending_exports(
        session_factory=deps.session_factory,
        notion=notion_of(deps),
        chat=deps.chat,
        settings=deps.settings,
        now=now,
        outbox=deps.outbox,
    )


def run_sync(deps: Deps) -> SyncSummary:
    """Read Status and Meeting back from the pages edited since the last sync (both databases)."""
    summary = sync_from_notion(
        session_factory=deps.session_factory, notion=notion_of(deps), settings=deps.settings
    )
    private = deps.settings.notion_private_postmortem_database_id
    if private:
        more = sync_from_notion(
            session_factory=deps.session_factory,
            notion=notion_of(deps),
            settings=deps.settings,
            database_id=private,
        )
        summary.pages_seen += more.pages_seen
        summary.completed += more.completed
        summary.meetings += more.meetings
        summary.status_changes += more.status_changes
        summary.unknown_pages += more.unknown_pages
    return summary


def post_digest(deps: Deps) -> str | None:
    """Post the weekly postmortem digest to POSTMORTEM_DIGEST_CHANNEL; return the message ts."""
    channel = deps.settings.postmortem_digest_channel
    if not channel:
        return None
    now = utcnow()
    key = f"postmortem-digest:{now:%G-W%V}"  # one digest a week, whatever the replicas
    with session_scope(deps.session_factory) as session:
        if not incidents.claim_delivery(key, session=session):
            return None
        digest = build_digest(session=session, settings=deps.settings, now=now)
    try:
        target = deps.chat.resolve_channel(channel)
        return deps.chat.post_message(target, digest.text, blocks=digest.blocks)
    except IntegrationError as exc:
        log.warning("postmortem_digest_not_posted", problem=str(exc))
        with session_scope(deps.session_factory) as session:
            incidents.forget_delivery(key, session=session)  # the next firing tries again
        return None
