"""The postmortem meeting as an iCalendar invitation (RFC 5545), built with icalendar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from icalendar import Calendar, Event, vCalAddress, vText


@dataclass(frozen=True)
class Invitation:
    """What an .ics file says about one postmortem meeting."""

    uid: str
    sequence: int
    summary: str
    description: str
    starts_at: datetime
    duration: timedelta
    attendees: list[tuple[str, str]]  # (name, email)
    url: str | None = None
    cancelled: bool = False


def meeting_uid(incident_id: int, domain: str = "sevbot") -> str:
    """Return the stable UID of an incident's postmortem meeting."""
    return f"postmortem-{incident_id}@{domain}"


def build_ics(invite: Invitation, *, now: datetime) -> bytes:
    """Render a REQUEST (or CANCEL) calendar with one event; same UID, rising SEQUENCE."""
    cal = Calendar()
    cal.add("prodid", "-//sevbot//postmortem meeting//EN")
    cal.add("version", "2.0")
    cal.add("method", "CANCEL" if invite.cancelled else "REQUEST")
    event = Event()
    event.add("uid", invite.uid)
    event.add("sequence", invite.sequence)
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", invite.starts_at.astimezone(UTC))
    event.add("dtend", (invite.starts_at + invite.duration).astimezone(UTC))
    event.add("summary", invite.summary)
    event.add("description", invite.description)
    event.add("status", "CANCELLED" if invite.cancelled else "CONFIRMED")
    if invite.url:
        event.add("url", invite.url)
    for name, email in invite.attendees:
        attendee = vCalAddress(f"mailto:{email}")
        attendee.params["cn"] = vText(name)
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        event.add("attendee", attendee, encode=False)
    cal.add_component(event)
    return cal.to_ical()
