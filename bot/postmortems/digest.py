"""The weekly postmortem digest for managers: by status, overdue ones, meetings coming up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.followups.service import backlog
from bot.incidents.models import Incident
from bot.postmortems import service
from bot.postmortems.models import STATUSES, Postmortem
from bot.settings import Settings
from bot.slack.blocks.postmortems import digest_message

Row = tuple[Postmortem, Incident]


@dataclass(frozen=True)
class Digest:
    """The digest as fallback text and Block Kit blocks."""

    text: str
    blocks: list[dict[str, Any]]


@dataclass(frozen=True)
class DigestFacts:
    """What the digest reports: postmortems by status, overdue ones, meetings coming up."""

    by_status: dict[str, list[Row]]
    overdue: list[Row]
    overdue_days: int
    upcoming: list[Row]
    followups: str  # the follow-up backlog against last week
    timezone: ZoneInfo


def overdue_after(settings: Settings) -> timedelta:
    """Return how long after resolve an unfinished postmortem counts as overdue."""
    return settings.postmortem_complete_nudge_after * settings.postmortem_complete_escalate_after


def followup_backlog(*, session: Session, now: datetime) -> str:
    """Return the follow-up backlog of the last 7 days against the 7 days before."""
    week = timedelta(days=7)
    this = backlog(session=session, since=now - week, until=now)
    before = backlog(session=session, since=now - 2 * week, until=now - week)
    parts = []
    for key in ("opened", "done", "overdue"):
        delta = this[key] - before[key]
        parts.append(f"{key} {this[key]} ({'+' if delta >= 0 else ''}{delta} vs last week)")
    return ", ".join(parts)


def digest_facts(*, session: Session, settings: Settings, now: datetime) -> DigestFacts:
    """Read what the weekly digest reports from the postmortem rows."""
    rows = service.list_with_incidents(session=session)
    limit = overdue_after(settings)
    overdue = [
        (p, i)
        for p, i in rows
        if p.status != "Complete" and i.resolved_at is not None and now - i.resolved_at > limit
    ]
    upcoming = sorted(
        [
            (p, i)
            for p, i in rows
            if p.meeting_at and now <= p.meeting_at <= now + timedelta(days=7)
        ],
        key=lambda pair: pair[0].meeting_at or now,
    )
    return DigestFacts(
        by_status={status: [(p, i) for p, i in rows if p.status == status] for status in STATUSES},
        overdue=overdue,
        overdue_days=limit.days,
        upcoming=upcoming,
        followups=followup_backlog(session=session, now=now),
        timezone=ZoneInfo(settings.default_timezone),
    )


def build_digest(*, session: Session, settings: Settings, now: datetime) -> Digest:
    """Build the weekly digest from the postmortem rows."""
    text, blocks = digest_message(digest_facts(session=session, settings=settings, now=now))
    return Digest(text=text, blocks=blocks)
