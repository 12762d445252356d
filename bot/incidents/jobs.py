"""Background jobs of the incident feature: resume interrupted setups and syncs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.db import session_scope
from bot.incidents import activity, announce, declare, service

if TYPE_CHECKING:
    from bot.deps import Deps


def resume_incidents(deps: Deps) -> int:
    """Finish channel setups and announcement syncs that a crash or a Slack outage interrupted."""
    with session_scope(deps.session_factory) as session:
        ids = list(
            service.list_unfinished_setup(session=session, max_attempts=declare.MAX_SETUP_ATTEMPTS)
        )
        pending_setup = {
            i for i in ids if (inc := service.get(i, session=session)) and inc.setup_done_at is None
        }
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
