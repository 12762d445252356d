"""Postmortem meetings from Slack: parse, validate, record, cancel, announce with an .ics."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import structlog
from sqlalchemy.orm import Session, sessionmaker

from bot.db import session_scope, utcnow
from bot.i18n import _, public_
from bot.incidents import service as incidents
from bot.incidents.announce import event_row
from bot.incidents.domain import InvalidInput, incident_label
from bot.incidents.flows import channel_incident
from bot.integrations.ports import ChatPort, FileShare, IntegrationError
from bot.nudges import service
from bot.nudges.ics import Invitation, build_ics, meeting_uid
from bot.nudges.models import Meeting
from bot.outbox import service as outbox
from bot.outbox.service import Claimed, Outgoing
from bot.postmortems import service as postmortems
from bot.postmortems.events import PostmortemMeetingChanged
from bot.settings import Settings
from bot.text import format_duration, mention, truncate

log = structlog.get_logger(__name__)
MEETING_ANNOUNCEMENT = "meeting_announcement"
_WHEN = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T](\d{1,2}:\d{2})(?:\s+(\S+))?$")
_DURATION_PART = re.compile(r"(\d+)\s*([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_ATTENDEE_LOOKUPS = 100
MAX_AHEAD = timedelta(days=366)  # further out is a typo (and year 9999 cannot be announced)
SCHEDULE_USAGE = (
    "`/incident schedule YYYY-MM-DD HH:MM [IANA timezone]` or `/incident schedule cancel`"
)


@dataclass(frozen=True)
class Slot:
    """A meeting time as typed: local date and time, and a timezone name if one was given."""

    local: datetime
    timezone: str | None


def parse_when(args: str) -> Slot:
    """Parse 'YYYY-MM-DD HH:MM [timezone]'; the timezone is checked, not the date's future."""
    match = _WHEN.match(args.strip())
    if not match:
        raise InvalidInput(
            _("I could not read a date and time there. Use {usage}.", usage=SCHEDULE_USAGE)
        )
    try:
        local = datetime.strptime(f"{match.group(1)} {match.group(2)}", "%Y-%m-%d %H:%M")
    except ValueError:
        raise InvalidInput(
            _(
                "`{when}` is not a real date and time.",
                when=f"{match.group(1)} {match.group(2)}",
            )
        ) from None
    if match.group(3):
        zone(match.group(3))
    return Slot(local, match.group(3))


def parse_meeting_duration(text: str) -> timedelta:
    """Parse '45m', '1h', '1h30m' or '1h 30m' into a duration of 1 minute to 1 day."""
    cleaned = text.strip().lower()
    parts = _DURATION_PART.findall(cleaned)
    if not parts or _DURATION_PART.sub("", cleaned).strip():
        raise InvalidInput(
            _("`{text}` is not a duration; write it like `45m`, `1h` or `1h30m`.", text=text)
        )
    seconds = sum(int(n) * _UNITS[u] for n, u in parts)
    if not 60 <= seconds <= 86400:
        raise InvalidInput(_("A meeting lasts between 1 minute and 1 day."))
    return timedelta(seconds=seconds)


def zone(name: str) -> ZoneInfo:
    """Return an IANA timezone, or explain that it is unknown."""
    name = name.strip()
    problem = InvalidInput(
        _(
            "`{name}` is not an IANA timezone name; use one like `Europe/Berlin` or `UTC`.",
            name=truncate(name, 60),
        )
    )
    # Only names IANA lists: a directory (`America`) or a 300-character name is not a zone,
    # and must not reach the file system as a path.
    if name not in _zone_names():
        raise problem
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise problem from None


@functools.cache
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def start_time(local: datetime, timezone: str, now: datetime) -> datetime:
    """Place a local time in its timezone; reject a time that is already past."""
    starts_at = local.replace(tzinfo=zone(timezone))
    if starts_at <= now:
        raise InvalidInput(
            _(
                "{when} ({timezone}) is in the past. Pick a future date and time.",
                when=f"{local:%Y-%m-%d %H:%M}",
                timezone=timezone,
            )
        )
    if starts_at - now > MAX_AHEAD:
        raise InvalidInput(
            f"{local:%Y-%m-%d %H:%M} is too far ahead; schedule the meeting within a year from now."
        )
    return starts_at


def user_timezone(chat: ChatPort, user_id: str, settings: Settings) -> str:
    """Return a user's Slack timezone, else DEFAULT_TIMEZONE."""
    try:
        tz = chat.user(user_id).tz
    except IntegrationError:
        tz = None
    return tz if tz and tz in _zone_names() else settings.default_timezone


def channel_attendees(chat: ChatPort, channel_id: str) -> list[str]:
    """Return the channel's members but the bot: whom a meeting invites by default."""
    bot = chat.bot_user_id()
    return [member for member in chat.channel_members(channel_id) if member != bot]


def record_meeting(
    incident_id: int,
    starts_at: datetime,
    *,
    timezone: str,
    duration: timedelta,
    attendees: list[str],
    user_id: str,
    session_factory: sessionmaker[Session],
) -> list[str]:
    """Record or move the meeting (same UID, SEQUENCE + 1), with its announcement to send."""
    with session_scope(session_factory) as session:
        postmortems.record_meeting(incident_id, starts_at, session=session, source="slack")
        meeting = service.meeting(incident_id, session=session)
        if meeting is None:
            meeting = Meeting(incident_id=incident_id, uid=meeting_uid(incident_id), sequence=0)
            session.add(meeting)
        else:
            meeting.sequence += 1
        meeting.starts_at, meeting.timezone = starts_at, timezone
        meeting.duration_seconds = int(duration.total_seconds())
        meeting.attendees, meeting.scheduled_by = attendees, user_id
        meeting.cancelled_at, meeting.updated_at = None, utcnow()
        service.mark_dirty(incident_id, session=session)
        return _queue_announcement(session, meeting)


def cancel_meeting(
    channel_id: str, user_id: str, *, session_factory: sessionmaker[Session], settings: Settings
) -> tuple[int, list[str]]:
    """Cancel the recorded meeting (nudges resume); return the incident id and what to send."""
    with session_scope(session_factory) as session:
        incident = channel_incident(channel_id, session=session)
        postmortem = postmortems.get(incident.id, session=session)
        if postmortem is None or postmortem.meeting_at is None:
            raise InvalidInput(
                _(
                    "{label} has no postmortem meeting to cancel.",
                    label=incident_label(incident.number),
                )
            )
        meeting = service.meeting(incident.id, session=session)
        if meeting is None:
            meeting = Meeting(
                incident_id=incident.id,
                uid=meeting_uid(incident.id),
                sequence=0,
                timezone=settings.default_timezone,
                duration_seconds=int(settings.meeting_default_duration.total_seconds()),
                attendees=[],
            )
            session.add(meeting)
        else:
            meeting.sequence += 1
        meeting.starts_at = postmortem.meeting_at
        meeting.cancelled_at = meeting.updated_at = utcnow()
        meeting.scheduled_by = user_id
        postmortems.record_meeting(incident.id, None, session=session, source="slack")
        service.mark_dirty(incident.id, session=session)
        return incident.id, _queue_announcement(session, meeting)


def _queue_announcement(session: Session, meeting: Meeting) -> list[str]:
    """Record the meeting's announcement (rendered when sent) and its domain event."""
    session.flush()
    key = f"{meeting.incident_id}:meeting:{meeting.sequence}"
    incident = incidents.get(meeting.incident_id, session=session)
    rows = [
        event_row(
            f"{key}:event", meeting.incident_id, PostmortemMeetingChanged(meeting.incident_id)
        )
    ]
    if incident is not None and incident.channel_id:
        rows.insert(
            0,
            Outgoing(
                key=key,
                kind=MEETING_ANNOUNCEMENT,
                target=incident.channel_id,
                incident_id=meeting.incident_id,
                payload={"sequence": meeting.sequence},
            ),
        )
    return outbox.enqueue(rows, session=session)


def announce_meeting(
    item: Claimed, *, chat: ChatPort, session_factory: sessionmaker[Session]
) -> tuple[str | None, str | None]:
    """Post the meeting (or its cancellation) with its .ics invitation (an outbox handler).

    Rendered when sent, since the attendees' emails come from Slack. A newer schedule,
    move or cancel supersedes this one; the .ics file name carries the sequence, so an
    upload whose answer was lost is found instead of repeated.
    """
    incident_id = item.incident_id or 0
    sequence = int((item.payload or {}).get("sequence", -1))
    with session_scope(session_factory) as session:
        incident = incidents.get(incident_id, session=session)
        meeting = service.meeting(incident_id, session=session)
        if incident is None or meeting is None or meeting.starts_at is None:
            return None, None
        if meeting.sequence != sequence:
            log.info("meeting_announcement_superseded", key=item.key)
            return None, None
        number, title, channel = incident.number, incident.title, item.target
        starts_at, tz, seconds = meeting.starts_at, meeting.timezone, meeting.duration_seconds
        uid, cancelled = meeting.uid, meeting.cancelled_at is not None
        attendees, by = list(meeting.attendees or []), meeting.scheduled_by
    # Unique per version (files carry no metadata: the name is how a lost upload is found).
    version = f"-v{sequence + 1}" if sequence else ""
    file_name = f"inc-{number}-postmortem{version}{'-cancelled' if cancelled else ''}.ics"
    if item.attempts_before > 0 and chat.find_file(
        channel, file_name, oldest=item.created_at.timestamp() - 120
    ):
        return channel, None
    people = []
    for user_id in attendees[:MAX_ATTENDEE_LOOKUPS]:
        try:
            user = chat.user(user_id)
        except IntegrationError:
            continue
        if user.email and not user.is_bot:
            people.append((user.name, user.email))
    local = starts_at.astimezone(ZoneInfo(tz))
    fallback = f"{local:%Y-%m-%d %H:%M} {tz}"
    tokens = public_("{date_long_pretty} at {time}")  # Slack fills these in, not format()
    when = f"<!date^{int(starts_at.timestamp())}^{tokens}|{fallback}>"
    duration = timedelta(seconds=seconds)
    label = incident_label(number)
    values = {"user": mention(by), "label": label, "when": when}
    if cancelled:
        text = public_(
            ":x: {user} cancelled the postmortem meeting of {label} ({when}). "
            "Scheduling nudges resume.",
            **values,
        )
    else:
        details = {
            "local": f"{local:%Y-%m-%d %H:%M} {tz}",
            "duration": format_duration(duration.total_seconds()),
        }
        if sequence == 0:
            text = public_(
                ":calendar: {user} scheduled the postmortem meeting of {label}: {when} "
                "({local}, {duration}). Add the invitation to your calendar.",
                **values,
                **details,
            )
        else:
            text = public_(
                ":calendar: {user} moved the postmortem meeting of {label}: {when} "
                "({local}, {duration}). Add the invitation to your calendar.",
                **values,
                **details,
            )
    invite = Invitation(
        uid=uid,
        sequence=sequence,
        summary=public_("Postmortem: {label} {title}", label=label, title=title),
        description=public_("Postmortem meeting of {label} ({title}).", label=label, title=title),
        starts_at=starts_at,
        duration=duration,
        attendees=people,
        cancelled=cancelled,
    )
    chat.share_tagged(
        channel,
        FileShare(
            filename=file_name,
            content=build_ics(invite, now=utcnow()),
            title=public_("{label} postmortem meeting", label=label),
            initial_comment=text,
        ),
    )
    return channel, None
