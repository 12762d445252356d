"""What every fault test asserts after recovery: each incident complete, nothing twice."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.db import session_scope
from bot.incidents.jobs import resume_incidents
from bot.incidents.models import Incident
from tests.harness import Harness


def incidents(h: Harness) -> list[Incident]:
    """Return every incident row, oldest first."""
    with session_scope(h.deps.session_factory) as session:
        return list(session.scalars(select(Incident).order_by(Incident.id)))


def resume_now(h: Harness) -> int:
    """Let every setup back-off expire and run the resume job once, as the scheduler would."""
    with session_scope(h.deps.session_factory) as session:
        for row in session.scalars(select(Incident).where(Incident.setup_done_at.is_(None))):
            row.lease_until = None
    return resume_incidents(h.deps)


def kickoffs(h: Harness, channel: str) -> list[dict[str, Any]]:
    """Return the kickoff messages (the ones with the action buttons) in a channel."""
    return [
        m
        for m in h.slack.messages(channel)
        if any(b.get("type") == "header" for b in m.get("blocks") or [])
    ]


def assert_each_incident_complete_once(h: Harness, expected: int) -> None:
    """Check: `expected` incidents, each set up with one channel, kickoff and announcement."""
    rows = incidents(h)
    assert len(rows) == expected, [r.number for r in rows]
    assert [r.number for r in rows] == list(range(1, expected + 1))
    channels = [c for c in h.slack.channels() if str(c.get("name", "")).startswith("inc-")]
    assert len(channels) == expected, [c["name"] for c in channels]  # no second channel
    announcements = h.slack.messages(h.incidents_channel)
    for row in rows:
        assert row.setup_done_at is not None and row.setup_error is None, row.setup_error
        assert row.channel_id and row.kickoff_pinned and row.topic_set and row.members_invited
        assert len(kickoffs(h, row.channel_id)) == 1
        assert h.slack.pins(row.channel_id) == [row.kickoff_ts]
        mine = [m for m in announcements if f"<#{row.channel_id}>" in str(m.get("blocks"))]
        assert [m["ts"] for m in mine] == [row.announcement_ts], (row.number, mine)
