"""Nudge use cases started from Slack: snoozing a channel's update nudges."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from bot.db import session_scope
from bot.incidents import service as incidents
from bot.nudges import service


def snooze_updates(
    channel_id: str,
    user_id: str,
    *,
    until: datetime,
    now: datetime,
    session_factory: sessionmaker[Session],
) -> bool:
    """Silence the update nudges of a channel's incident until a time; False if none is there."""
    with session_scope(session_factory) as session:
        incident_id = incidents.incident_id_for_channel(channel_id, session=session)
        if incident_id is None:
            return False
        service.snooze(incident_id, session=session, until=until, by=user_id, now=now)
    return True
