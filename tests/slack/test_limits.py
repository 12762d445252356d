"""Block Kit limits (docs.slack.dev): header <= 150, section <= 3000, <= 50 blocks a message."""

from __future__ import annotations

import json
from datetime import timedelta

from bot.db import session_scope, utcnow
from bot.fakes.slack_blocks import MESSAGE_MAX_BLOCKS, validate_blocks
from bot.incidents.models import Incident
from tests.harness import Harness, wait_until


def block_limit_problems(blocks: list[dict[str, object]]) -> list[str]:
    return validate_blocks(blocks, pointer="/blocks", max_blocks=MESSAGE_MAX_BLOCKS)


def test_long_update_and_title_fit_slack_limits(harness: Harness) -> None:
    h = harness
    title = "결제" * 75  # 150 characters, the longest title accepted
    inc = h.declare(f"declare sev2 {title}")
    kickoff = h.slack.messages(inc["channel"])[0]
    assert block_limit_problems(kickoff["blocks"]) == []
    text = "Still rolling back. " * 300  # 6000 characters
    h.command(f"update {text}", channel=inc["channel"])
    posted = wait_until(
        lambda: [m for m in h.slack.messages(inc["channel"]) if "Still rolling back" in str(m)]
    )
    assert block_limit_problems(posted[0]["blocks"]) == []
    with session_scope(h.deps.session_factory) as session:  # the timeline keeps it all
        from bot.incidents.models import TimelineEntry

        entry = session.query(TimelineEntry).filter_by(kind="update").one()
        assert entry.text == text.strip()


def test_many_incidents_list_stays_within_50_blocks(harness: Harness) -> None:
    h = harness
    now = utcnow()
    with session_scope(h.deps.session_factory) as session:
        for n in range(1, 71):
            session.add(
                Incident(
                    number=n,
                    title=f"Incident {n}",
                    severity="SEV-3",
                    status="investigating",
                    reporter_id=h.alice,
                    commander_id=h.alice,
                    declared_at=now - timedelta(minutes=n),
                    request_key=f"seed-{n}",
                    channel_id=f"CSEED{n:04d}",
                    setup_done_at=now,
                )
            )
    body = json.loads(h.command("list").body)
    assert len(body["blocks"]) <= 50 and block_limit_problems(body["blocks"]) == []
    assert "more" in json.dumps(body["blocks"][-1])
    h.dispatch(h.signer.event({"type": "app_home_opened", "user": h.bob, "tab": "home"}))
    view = wait_until(lambda: h.slack.home_view(h.bob))
    assert len(view["blocks"]) <= 100
