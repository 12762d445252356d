"""Background jobs of the incident feature: resume interrupted setups and syncs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog

from bot.db import session_scope
from bot.incidents import activity, announce, declare, service
from bot.integrations.ports import IntegrationError

if TYPE_CHECKING:
    from bot.deps import Deps

log = structlog.get_logger(__name__)


def resume_incidents(deps: Deps) -> int:
    """Finish channel setups and announcement syncs that a crash or a Slack outage interrupted."""
    with session_scope(deps.session_factory) as session:
        ids = list(
            service.list_unfinished_setup(session=session, max_attempts=declare.MAX_SETUP_ATTEMPTS)
        )
        pending_setup = {
            i for i in ids if (inc := service.get(i, session=session)) and inc.setup_done_at is None
        }
    with session_scope(deps.session_factory) as session:
        linking = list(service.with_pending_links(session=session))
    for incident_id in linking:
        run_pending_links(deps, incident_id)
    done = 0
    for incident_id in ids:
        if incident_id in pending_setup:
            done += declare.setup_incident(incident_id, deps.incidents)
        else:
            done += announce.sync_incident(incident_id, deps.incidents)
    return done


def reconcile_activity(deps: Deps) -> int:
    """Catch up channel activity a crash kept from being recorded (run once at start)."""
    return activity.reconcile_activity(deps.incidents)


def run_pending_links(deps: Deps, incident_id: int) -> None:
    """Do the links asked for at declaration, through the features' link hooks.

    A link is dropped once done (or when no feature handles its kind); a hook that raises
    IntegrationError (an outage) leaves it pending for the resume job to retry.
    """
    with session_scope(deps.session_factory) as session:
        incident = service.get(incident_id, session=session)
        if incident is None or incident.setup_done_at is None or not incident.pending_links:
            return
        pending = dict(incident.pending_links)
    for kind, ref in pending.items():
        hook = deps.link_hooks.get(kind)
        if hook is None:
            log.warning("link_kind_unhandled", incident_id=incident_id, kind=kind)
        else:
            try:
                hook(deps, incident_id, ref)
            except IntegrationError as exc:
                log.warning("link_failed_will_retry", incident_id=incident_id, problem=str(exc))
                continue
        with session_scope(deps.session_factory) as session:
            row = service.get(incident_id, session=session)
            if row is not None:
                row.pending_links = {
                    k: v for k, v in (row.pending_links or {}).items() if k != kind
                }
