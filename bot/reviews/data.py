"""Read what the incident review needs from the database, in a fixed number of queries.

Two SELECTs whatever the number of incidents: the incidents joined with their timeline
milestones, the commander's first message and their postmortem; and their PagerDuty services.
Everything else is computed in Python by bot.reviews.metrics.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, false, func, select
from sqlalchemy.orm import Session

from bot.incidents.models import ChannelMessage, Incident, TimelineEntry
from bot.pagerduty.models import PagerDutyLink
from bot.postmortems.models import Postmortem

# Timeline kinds written by the PagerDuty feature (log entries pulled on link, webhook events).
ACK_KINDS = ("pagerduty_acknowledge", "pagerduty_acknowledged")
TRIGGER_KINDS = ("pagerduty_trigger", "pagerduty_page")


@dataclass(frozen=True)
class PostmortemFacts:
    """What the review asks of a postmortem."""

    meeting_booked_at: datetime | None
    completed_at: datetime | None


@dataclass(frozen=True)
class IncidentFacts:
    """One incident as the review sees it: times and groupings, no channel content."""

    id: int
    number: int
    title: str
    severity: str
    declared_at: datetime
    resolved_at: datetime | None
    # PagerDuty services of the linked PagerDuty incidents (empty when none is linked).
    services: tuple[str, ...]
    # The earliest PagerDuty trigger of a linked incident, if the timeline has one.
    triggered_at: datetime | None
    # The first PagerDuty acknowledgement, and the commander's first message or update.
    pagerduty_acked_at: datetime | None
    commander_spoke_at: datetime | None
    # The first change of status to `monitoring`.
    monitoring_at: datetime | None
    postmortem: PostmortemFacts | None
    # Private incidents are counted but never named; set from the incident once they exist.
    private: bool = False

    @property
    def linked(self) -> bool:
        """Say whether a PagerDuty incident is linked."""
        return bool(self.services)

    @property
    def started_at(self) -> datetime:
        """Return where time to acknowledge starts: the PagerDuty trigger, otherwise declare."""
        return self.triggered_at if self.linked and self.triggered_at else self.declared_at

    @property
    def acknowledged_at(self) -> datetime | None:
        """Return the first acknowledgement or commander message, whichever came first."""
        times = [t for t in (self.pagerduty_acked_at, self.commander_spoke_at) if t is not None]
        return min(times) if times else None


def _in_window(since: datetime, until: datetime) -> Any:
    """Return the ids (and commanders) of the non-drill incidents declared in [since, until)."""
    return select(Incident.id, Incident.commander_id).where(
        Incident.declared_at >= since,
        Incident.declared_at < until,
        Incident.is_drill == false(),
    )


def _first(condition: object) -> Any:
    return func.min(case((condition, TimelineEntry.occurred_at)))  # type: ignore[arg-type]


def _milestones(window: Any) -> Any:
    """Per incident of the window: first trigger, ack, monitoring and commander update."""
    return (
        select(
            TimelineEntry.incident_id,
            _first(TimelineEntry.kind.in_(TRIGGER_KINDS)).label("triggered"),
            _first(TimelineEntry.kind.in_(ACK_KINDS)).label("acked"),
            _first(
                and_(
                    TimelineEntry.kind == "status",
                    TimelineEntry.data["to"].as_string() == "monitoring",
                )
            ).label("monitoring"),
            _first(
                and_(
                    TimelineEntry.kind == "update", TimelineEntry.actor_id == window.c.commander_id
                )
            ).label("commander_update"),
        )
        .join(window, window.c.id == TimelineEntry.incident_id)
        .group_by(TimelineEntry.incident_id)
        .subquery()
    )


def _commander_messages(window: Any) -> Any:
    """Per incident of the window: the commander's first message in the channel."""
    return (
        select(ChannelMessage.incident_id, func.min(ChannelMessage.posted_at).label("spoke"))
        .join(window, window.c.id == ChannelMessage.incident_id)
        .where(ChannelMessage.user_id == window.c.commander_id)
        .group_by(ChannelMessage.incident_id)
        .subquery()
    )


def load_incidents(*, session: Session, since: datetime, until: datetime) -> list[IncidentFacts]:
    """Return every non-drill incident declared in [since, until) with its review facts."""
    window = _in_window(since, until).subquery()
    marks, spoke = _milestones(window), _commander_messages(window)
    # Core rows, not ORM entities: the same SQL without the ORM's per-row bookkeeping.
    db = session.connection()
    rows = db.execute(
        select(
            Incident.id,
            Incident.number,
            Incident.title,
            Incident.is_private,
            Incident.severity,
            Incident.declared_at,
            Incident.resolved_at,
            marks.c.triggered,
            marks.c.acked,
            marks.c.monitoring,
            marks.c.commander_update,
            spoke.c.spoke,
            Postmortem.id.label("postmortem_id"),
            Postmortem.meeting_booked_at,
            Postmortem.completed_at,
        )
        .join(window, window.c.id == Incident.id)
        .outerjoin(marks, marks.c.incident_id == Incident.id)
        .outerjoin(spoke, spoke.c.incident_id == Incident.id)
        .outerjoin(Postmortem, Postmortem.incident_id == Incident.id)
        .order_by(Incident.declared_at, Incident.id)
    ).all()
    if not rows:
        return []
    services: dict[int, set[str]] = defaultdict(set)
    for incident_id, service in db.execute(
        select(PagerDutyLink.incident_id, PagerDutyLink.service_name).join(
            window, window.c.id == PagerDutyLink.incident_id
        )
    ):
        services[incident_id].add(service or "(unnamed service)")
    facts = []
    for row in rows:
        said = [t for t in (row.commander_update, row.spoke) if t is not None]
        facts.append(
            IncidentFacts(
                id=row.id,
                number=row.number,
                title=row.title,
                severity=row.severity,
                declared_at=row.declared_at,
                resolved_at=row.resolved_at,
                services=tuple(sorted(services.get(row.id, ()))),
                triggered_at=row.triggered,
                pagerduty_acked_at=row.acked,
                commander_spoke_at=min(said) if said else None,
                monitoring_at=row.monitoring,
                postmortem=PostmortemFacts(row.meeting_booked_at, row.completed_at)
                if row.postmortem_id is not None
                else None,
                private=bool(row.is_private),
            )
        )
    return facts
