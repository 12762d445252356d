"""Page properties the bot owns, and the Slack names and owner email the page needs."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from bot.incidents.models import Incident
from bot.integrations.ports import ChatPort, IntegrationError
from bot.postmortems.models import Postmortem

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)")
_SLACK_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


def iso_date(at: datetime | None) -> dict[str, Any] | None:
    """Return a Notion date value (or None to clear it)."""
    return {"start": at.isoformat()} if at else None


def build_properties(
    incident: Incident,
    postmortem: Postmortem,
    *,
    owner_id: str | None,
    creating: bool,
    channel_url: str | None,
) -> dict[str, Any]:
    """Return the page properties the bot owns (Status only when creating or complete)."""
    duration = None
    if incident.resolved_at:
        duration = round((incident.resolved_at - incident.declared_at).total_seconds() / 60)
    title = f"#{incident.number} {incident.title}"[:2000]
    properties: dict[str, Any] = {
        "Title": {"title": [{"type": "text", "text": {"content": title}}]},
        "Incident": {"number": incident.number},
        "Severity": {"select": {"name": incident.severity}},
        "Declared": {"date": iso_date(incident.declared_at)},
        "Resolved": {"date": iso_date(incident.resolved_at)},
        "Duration": {"number": duration},
        "Slack channel": {"url": channel_url},
        "PagerDuty": {"url": postmortem.pagerduty_url},
    }
    if creating or postmortem.status == "Complete":
        properties["Status"] = {"select": {"name": postmortem.status}}
    if owner_id:
        properties["Owner"] = {"people": [{"id": owner_id}]}
    if creating and postmortem.meeting_at:  # later, Slack pushes it and Notion edits win
        properties["Meeting"] = {"date": iso_date(postmortem.meeting_at)}
    return properties


def slack_names(
    incident: Incident, texts: list[str], actors: list[str | None], chat: ChatPort
) -> tuple[dict[str, str], str | None]:
    """Return the display names of everyone the page mentions, and the commander's email."""
    wanted = {incident.commander_id, incident.comms_id, incident.scribe_id, *actors}
    for text in texts:
        wanted.update(_MENTION.findall(text))
    names: dict[str, str] = {}
    email = None
    for user_id in sorted(u for u in wanted if u and _SLACK_ID.match(u)):
        try:
            user = chat.user(user_id)
        except IntegrationError:
            continue
        names[user_id] = user.name
        if user_id == incident.commander_id:
            email = user.email
    return names, email
