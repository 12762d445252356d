"""Read what the incident review needs from the database, in a fixed number of queries.

Five SELECTs whatever the number of incidents: the incidents, their timeline milestones, the
commander's first message, their PagerDuty services and their postmortems. Everything else is
computed in Python by bot.reviews.metrics.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, case, false, func, select
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


def _in_window(since: datetime, until: datetime) -> Select[Any]:
    """Return the ids of the non-drill incidents declared in [since, until)."""
    return select(Incident.id).where(
        Incident.declared_at >= since,
        Incident.declared_at < until,
        Incident.is_drill == false(),
    )


def _first(condition: object) -> object:
    return func.min(case((condition, TimelineEntry.occurred_at)))  # type: ignore[arg-type]


def load_incidents(*, session: Session, since: datetime, until: datetime) -> list[IncidentFacts]:
    """Return every non-drill incident declared in [since, until) with its review facts."""
    window = _in_window(since, until).subquery()
    incidents = session.execute(
        select(
            Incident.id,
            Incident.number,
            Incident.title,
            Incident.severity,
            Incident.declared_at,
            Incident.resolved_at,
        )
        .where(Incident.id.in_(select(window.c.id)))
        .order_by(Incident.declared_at, Incident.id)
    ).all()
    if not incidents:
        return []
    milestones = {
        row.incident_id: row
        for row in session.execute(
            select(
                TimelineEntry.incident_id,
                _first(TimelineEntry.kind.in_(TRIGGER_KINDS)).label("triggered"),  # type: ignore[attr-defined]
                _first(TimelineEntry.kind.in_(ACK_KINDS)).label("acked"),  # type: ignore[attr-defined]
                _first(
                    and_(
                        TimelineEntry.kind == "status",
                        TimelineEntry.data["to"].as_string() == "monitoring",
                    )
                ).label("monitoring"),  # type: ignore[attr-defined]
                _first(
                    and_(
                        TimelineEntry.kind == "update",
                        TimelineEntry.actor_id == Incident.commander_id,
                    )
                ).label("commander_update"),  # type: ignore[attr-defined]
            )
            .join(Incident, Incident.id == TimelineEntry.incident_id)
            .where(TimelineEntry.incident_id.in_(select(window.c.id)))
            .group_by(TimelineEntry.incident_id)
        )
    }
    spoke = dict(
        session.execute(  # type: ignore[arg-type]
            select(ChannelMessage.incident_id, func.min(ChannelMessage.posted_at))
            .join(Incident, Incident.id == ChannelMessage.incident_id)
            .where(
                ChannelMessage.incident_id.in_(select(window.c.id)),
                ChannelMessage.user_id == Incident.commander_id,
            )
            .group_by(ChannelMessage.incident_id)
        ).all()
    )
    services: dict[int, set[str]] = defaultdict(set)
    for incident_id, service in session.execute(
        select(PagerDutyLink.incident_id, PagerDutyLink.service_name).where(
            PagerDutyLink.incident_id.in_(select(window.c.id))
        )
    ):
        services[incident_id].add(service or "(unnamed service)")
    postmortems = {
        row.incident_id: PostmortemFacts(row.meeting_booked_at, row.completed_at)
        for row in session.execute(
            select(
                Postmortem.incident_id, Postmortem.meeting_booked_at, Postmortem.completed_at
            ).where(Postmortem.incident_id.in_(select(window.c.id)))
        )
    }
    facts = []
    for row in incidents:
        marks = milestones.get(row.id)
        update_at = marks.commander_update if marks else None
        message_at = spoke.get(row.id)
        said = [t for t in (update_at, message_at) if t is not None]
        facts.append(
            IncidentFacts(
                id=row.id,
                number=row.number,
                title=row.title,
                severity=row.severity,
                declared_at=row.declared_at,
                resolved_at=row.resolved_at,
                services=tuple(sorted(services.get(row.id, ()))),
                triggered_at=marks.triggered if marks else None,
                pagerduty_acked_at=marks.acked if marks else None,
                commander_spoke_at=min(said) if said else None,
                monitoring_at=marks.monitoring if marks else None,
                postmortem=postmortems.get(row.id),
            )
        )
    return facts
