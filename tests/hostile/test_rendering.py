"""A stored user id that is not one (`<!channel>`) renders as inert text, never `<@<!channel>>`."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.incidents.domain import IncidentSnapshot
from bot.slack.blocks.home import home_view
from bot.slack.blocks.incident import (
    announcement_blocks,
    announcement_text,
    kickoff_blocks,
    kickoff_text,
    notice_blocks,
    topic_text,
    update_blocks,
)
from bot.text import is_slack_id, mention
from tests.hostile.conftest import LIVE_BROADCAST

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def _incident(**ids: str | None) -> IncidentSnapshot:
    values: dict[str, object] = dict(
        id=1,
        number=7,
        title="<!channel> db down",
        description="<!here>",
        severity="SEV-2",
        status="investigating",
        reporter_id="U0REPORTER",
        commander_id="U0CMD",
        comms_id=None,
        scribe_id=None,
        declared_at=NOW,
        resolved_at=None,
        summary=None,
        channel_id="C0INC",
        channel_name="inc-7-db-down",
        announcement_channel_id="C0ANN",
        announcement_ts="1.2",
        kickoff_ts="1.3",
        last_update_at=None,
        last_human_message_at=None,
    )
    values.update(ids)
    return IncidentSnapshot(**values)  # type: ignore[arg-type]


def test_only_real_user_ids_become_mentions() -> None:
    assert mention("U012ABC") == "<@U012ABC>" and mention("W0ENTERPRISE") == "<@W0ENTERPRISE>"
    for junk in ("<!channel>", "<@U1>", "U1|x", "C012ABC", "", None, 5, "u012abc", "U\ud800"):
        assert mention(junk) == "(unknown user)", junk
    assert is_slack_id("C012ABC") and not is_slack_id("<!here>") and not is_slack_id(["U1"])


def test_junk_ids_in_stored_rows_render_inert_everywhere() -> None:
    incident = _incident(reporter_id="<!channel>", commander_id="<!here>", comms_id="<@U1|x>")
    rendered = [
        json.dumps(kickoff_blocks(incident)),
        kickoff_text(incident),
        json.dumps(announcement_blocks(incident)),
        announcement_text(incident),
        topic_text(incident),
        json.dumps(update_blocks(incident, "text", "<!everyone>")),
        json.dumps(notice_blocks(incident, "severity changed", "<!channel>")),
        json.dumps(home_view([incident], NOW)),
    ]
    for text in rendered:
        assert not LIVE_BROADCAST.search(text), text
