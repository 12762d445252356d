"""Postmortem use cases asked for in Slack: mark the postmortem of a channel's incident complete."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from bot.db import session_scope
from bot.i18n import _, public_
from bot.incidents.announce import event_row
from bot.incidents.domain import InvalidInput, incident_label
from bot.incidents.flows import channel_incident
from bot.outbox import service as outbox
from bot.outbox.service import Outgoing
from bot.postmortems import service
from bot.postmortems.events import PostmortemCompleted
from bot.text import mention

COMPLETE_POST = "postmortem_complete"


def complete_from_slack(
    channel_id: str, user_id: str, *, session_factory: sessionmaker[Session]
) -> list[str]:
    """Mark the channel's postmortem complete; return the note and event to send."""
    with session_scope(session_factory) as session:
        incident = channel_incident(channel_id, session=session)
        incident_id, label = incident.id, incident_label(incident.number)
        existing = service.get(incident_id, session=session)
        if existing is not None and existing.status == "Complete":
            raise InvalidInput(_("The postmortem of {label} is already complete.", label=label))
        service.mark_complete(incident_id, session=session, source="slack")
        done = f"{incident_id}:postmortem-complete"
        return outbox.enqueue(
            [
                Outgoing(
                    key=done,
                    kind=COMPLETE_POST,
                    target=channel_id,
                    text=public_(
                        ":white_check_mark: {user} marked the postmortem complete.",
                        user=mention(user_id),
                    ),
                    incident_id=incident_id,
                ),
                event_row(f"{done}:event", incident_id, PostmortemCompleted(incident_id)),
            ],
            session=session,
        )
