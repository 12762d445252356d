"""Postmortem meetings from Slack: parse, validate, record, cancel, announce with an .ics."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session, sessionmaker

from bot.db import session_scope, utcnow
from bot.i18n import _, public_
from bot.incidents import service as incidents
from bot.incidents.domain import InvalidInput
from bot.incidents.models import Incident
from bot.integrations.ports import ChatPort, FileShare, IntegrationError
from bot.nudges import service
from bot.nudges.ics import Invitation, build_ics, meeting_uid
from bot.nudges.models import Meeting
from bot.postmortems import service as postmortems
from bot.settings import Settings
from bot.text import format_duration

_WHEN = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T](\d{1,2}:\d{2})(?:\s+(\S+))?$")
MAX_ATTENDEE_LOOKUPS = 100
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


def zone(name: str) -> ZoneInfo:
    """Return an IANA timezone, or explain that it is unknown."""
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            _(
                "`{name}` is not an IANA timezone name; use one like `Europe/Berlin` or `UTC`.",
                name=name,
            )
        ) from None


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
    return starts_at


def user_timezone(chat: ChatPort, user_id: str, settings: Settings) -> str:
    """Return a user's Slack timezone, else DEFAULT_TIMEZONE."""
    try:
        tz = chat.user(user_id).tz
    except IntegrationError:
        tz = None
    if tz:
        try:
            ZoneInfo(tz)
            return tz
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return settings.default_timezone


def incident_for_channel(channel_id: str, *, session: Session) -> Incident:
    """Return the incident of this channel, or explain where the command works."""
    incident = incidents.get_by_channel(channel_id, session=session)
    if incident is None:
        raise InvalidInput(
            _(
                "This command only works in an incident channel. "
                "Run it in the channel of the incident you mean (see `/incident list`)."
            )
        )
    return incident


def record_meeting(
    incident_id: int,
    starts_at: datetime,
    *,
    timezone: str,
    duration: timedelta,
    attendees: list[str],
    user_id: str,
    session_factory: sessionmaker[Session],
) -> int:
    """Record or move the meeting (same UID, SEQUENCE + 1); return the sequence."""
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
        return meeting.sequence


def cancel_meeting(
    channel_id: str, user_id: str, *, session_factory: sessionmaker[Session], settings: Settings
) -> int:
    """Cancel the recorded meeting (nudges resume); return the incident id."""
    with session_scope(session_factory) as session:
        incident = incident_for_channel(channel_id, session=session)
        postmortem = postmortems.get(incident.id, session=session)
        if postmortem is None or postmortem.meeting_at is None:
            raise InvalidInput(
                _("INC-{number} has no postmortem meeting to cancel.", number=incident.number)
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
        return incident.id


def announce_meeting(
    incident_id: int, chat: ChatPort, session_factory: sessionmaker[Session]
) -> None:
    """Post the meeting (or its cancellation) in the channel with its .ics invitation."""
    with session_scope(session_factory) as session:
        incident = incidents.get(incident_id, session=session)
        meeting = service.meeting(incident_id, session=session)
        if incident is None or meeting is None or meeting.starts_at is None:
            return
        number, title, channel = incident.number, incident.title, incident.channel_id
        starts_at, tz, seconds = meeting.starts_at, meeting.timezone, meeting.duration_seconds
        sequence, uid, cancelled = meeting.sequence, meeting.uid, meeting.cancelled_at is not None
        attendees, by = list(meeting.attendees or []), meeting.scheduled_by
    if channel is None:
        return
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
    values = {"user": f"<@{by}>", "number": number, "when": when}
    if cancelled:
        text = public_(
            ":x: {user} cancelled the postmortem meeting of INC-{number} ({when}). "
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
                ":calendar: {user} scheduled the postmortem meeting of INC-{number}: {when} "
                "({local}, {duration}). Add the invitation to your calendar.",
                **values,
                **details,
            )
        else:
            text = public_(
                ":calendar: {user} moved the postmortem meeting of INC-{number}: {when} "
                "({local}, {duration}). Add the invitation to your calendar.",
                **values,
                **details,
            )
    invite = Invitation(
        uid=uid,
        sequence=sequence,
        summary=public_("Postmortem: INC-{number} {title}", number=number, title=title),
        description=public_(
            "Postmortem meeting of INC-{number} ({title}).", number=number, title=title
        ),
        starts_at=starts_at,
        duration=duration,
        attendees=people,
        cancelled=cancelled,
    )
    chat.share_file(
        channel,
        FileShare(
            filename=f"inc-{number}-postmortem{'-cancelled' if cancelled else ''}.ics",
            content=build_ics(invite, now=utcnow()),
            title=public_("INC-{number} postmortem meeting", number=number),
            initial_comment=text,
        ),
    )
