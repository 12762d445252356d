"""Pure builder of the App Home tab."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.i18n import _
from bot.incidents.domain import IncidentSnapshot
from bot.slack.blocks.incident import context, header, incident_list_blocks


def home_view(
    incidents: list[IncidentSnapshot],
    now: datetime,
    sections: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Build the Home tab: the active incidents, then the features' sections (follow-ups)."""
    blocks = [
        header(_("Active incidents")),
        *incident_list_blocks(incidents, now),
        *(sections or []),
    ]
    blocks.append(
        context(_("Declare a new one with `/incident`. `/incident help` lists every command."))
    )
    return {"type": "home", "blocks": blocks[:100]}
