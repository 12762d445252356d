"""The follow-ups section of App Home: "my open follow-ups", under the active incidents.

No listener of its own: the App Home listener (events/home.py) adds this section.
"""

from __future__ import annotations

from typing import Any

from bot.deps import Deps
from bot.followups import flows
from bot.slack.blocks.followups import home_blocks


def home_section(deps: Deps, user_id: str) -> list[dict[str, Any]]:
    """Return the App Home section listing the user's open follow-ups."""
    items = flows.open_followups_of(
        user_id,
        today=flows.today_in(deps.settings.default_timezone),
        session_factory=deps.session_factory,
    )
    return home_blocks(items)
