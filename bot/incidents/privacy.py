"""Who may see a private incident: the members of its private channel, nobody else."""

from __future__ import annotations

from collections.abc import Callable

from bot.incidents.domain import IncidentSnapshot

REDACTED_TITLE = "(private incident)"


def visible_to(
    incidents: list[IncidentSnapshot], user_id: str, members: Callable[[str], list[str]]
) -> list[IncidentSnapshot]:
    """Keep public incidents, and private ones whose channel has the user as a member.

    `members` asks Slack for a channel's members; a failure there hides the incident.
    """
    shown: list[IncidentSnapshot] = []
    for incident in incidents:
        if not incident.is_private:
            shown.append(incident)
            continue
        if not incident.channel_id:
            continue
        try:
            if user_id in members(incident.channel_id):
                shown.append(incident)
        except Exception:  # noqa: BLE001 - an unknown membership must not reveal the incident
            continue
    return shown


def shown_title(title: str, *, private: bool) -> str:
    """Return the title where everybody may read it: redacted for a private incident."""
    return REDACTED_TITLE if private else title
