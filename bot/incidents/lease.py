"""The background-work lease on an incident: one worker (of any replica) sets a channel up."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from bot.db import rowcount, utcnow
from bot.incidents.models import Incident

LEASE = timedelta(seconds=120)  # longer than a setup step with Slack retries


def claim(incident_id: int, *, session: Session) -> bool:
    """Take the background-work lease on an incident; False if another worker holds it."""
    now = utcnow()
    result = session.execute(
        update(Incident)
        .where(Incident.id == incident_id)
        .where((Incident.lease_until.is_(None)) | (Incident.lease_until < now))
        .values(lease_until=now + LEASE)
    )
    return bool(rowcount(result))


def release(incident_id: int, *, session: Session) -> None:
    """Give the lease back."""
    session.execute(update(Incident).where(Incident.id == incident_id).values(lease_until=None))
