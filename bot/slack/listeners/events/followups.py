"""The follow-ups section of App Home: "my open follow-ups", under the active incidents.

App Home is published on `app_home_opened` (events/incidents.py), which adds every hook in
`deps.home_sections`; `register` adds this one.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import App

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


def register(app: App, deps: Deps) -> None:
    """Add the follow-ups section to App Home (once, however many apps share these deps)."""
    if home_section not in deps.home_sections:
        deps.home_sections.append(home_section)
