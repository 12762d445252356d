"""Plain snapshots of incidents that renderers and background jobs can hold safely."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.i18n import _
from bot.incidents.models import Incident, TimelineEntry
from bot.text import clean_text

UPDATE_MAX_LENGTH = 8000  # posted across several 3,000-character blocks; more is a document


def incident_label(number: int) -> str:
    """Return the short name people use for an incident number, e.g. 'INC-12'."""
    return f"INC-{number}"


class InvalidInput(Exception):
    """A user's input is invalid; the message tells them how to do it right."""


def validate_update_text(text: str) -> str:
    """Return the cleaned update text, or raise InvalidInput when it is empty or too long."""
    text = clean_text(text).strip()
    if not text:
        raise InvalidInput(
            _("Please write the update, e.g. `/incident update Rolled back the deploy`.")
        )
    if len(text) > UPDATE_MAX_LENGTH:
        raise InvalidInput(
            _(
                "The update is {length} characters long; the limit is {limit}. "
                "Please shorten it, or post the details as a message in the channel.",
                length=len(text),
                limit=UPDATE_MAX_LENGTH,
            )
        )
    return text


@dataclass(frozen=True)
class TimelineItem:
    """One timeline entry, detached from the database."""

    occurred_at: datetime
    kind: str
    actor_id: str | None
    text: str
    permalink: str | None
    data: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class IncidentSnapshot:
    """An incident as renderers see it."""

    id: int
    number: int
    title: str
    description: str
    severity: str
    status: str
    reporter_id: str
    commander_id: str | None
    comms_id: str | None
    scribe_id: str | None
    declared_at: datetime
    resolved_at: datetime | None
    summary: str | None
    channel_id: str | None
    channel_name: str | None
    announcement_channel_id: str | None
    announcement_ts: str | None
    kickoff_ts: str | None
    last_update_at: datetime | None
    last_human_message_at: datetime | None
    is_private: bool = False
    is_security: bool = False

    @property
    def label(self) -> str:
        """Return the short name people use, e.g. 'INC-12'."""
        return incident_label(self.number)

    @property
    def is_open(self) -> bool:
        """Say whether the incident is still being worked on."""
        return self.status != "resolved"

    @property
    def roles(self) -> dict[str, str | None]:
        """Return role name to Slack user id."""
        return {"commander": self.commander_id, "comms": self.comms_id, "scribe": self.scribe_id}


def snapshot(incident: Incident) -> IncidentSnapshot:
    """Copy an ORM incident into a detached snapshot."""
    return IncidentSnapshot(
        id=incident.id,
        number=incident.number,
        title=incident.title,
        description=incident.description or "",
        severity=incident.severity,
        status=incident.status,
        reporter_id=incident.reporter_id,
        commander_id=incident.commander_id,
        comms_id=incident.comms_id,
        scribe_id=incident.scribe_id,
        declared_at=incident.declared_at,
        resolved_at=incident.resolved_at,
        summary=incident.summary,
        channel_id=incident.channel_id,
        channel_name=incident.channel_name,
        announcement_channel_id=incident.announcement_channel_id,
        announcement_ts=incident.announcement_ts,
        kickoff_ts=incident.kickoff_ts,
        last_update_at=incident.last_update_at,
        last_human_message_at=incident.last_human_message_at,
        is_private=incident.is_private,
        is_security=incident.is_security,
    )


def timeline_item(entry: TimelineEntry) -> TimelineItem:
    """Copy an ORM timeline entry into a detached item."""
    return TimelineItem(
        occurred_at=entry.occurred_at,
        kind=entry.kind,
        actor_id=entry.actor_id,
        text=entry.text,
        permalink=entry.permalink,
        data=dict(entry.data or {}),
    )


def highest_severity(initial: str, items: list[TimelineItem], order: list[str]) -> str:
    """Return the most severe level the incident reached (order lists most severe first)."""
    seen = [initial] + [
        str(i.data.get("to")) for i in items if i.kind == "severity" and i.data.get("to")
    ]
    known = [s for s in seen if s in order]
    return min(known, key=order.index) if known else initial
