"""Text from PagerDuty is shown, never used: no mentions, links or broadcasts in what we post."""

from __future__ import annotations

import threading

from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from bot.db import session_scope
from bot.pagerduty.service import claim_run
from bot.slack.blocks.pagerduty import event_text


def test_pagerduty_notes_agents_and_titles_cannot_ping_anyone() -> None:
    text = event_text(
        "incident.annotated",
        label="incident",
        agent="<!channel> bot",
        note="ping <@U0CEO> and @here, see <https://evil.example|docs>",
    )
    assert "<@U0CEO>" not in text
    assert "ping &lt;@U0CEO&gt;" in text
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
    assert "<https://evil.example|docs>" not in text
    assert "@here" not in text  # broken with a zero-width space


def test_only_one_process_claims_a_scheduled_review(clean_engine: Engine) -> None:
    factory = sessionmaker(clean_engine, expire_on_commit=False)
    barrier = threading.Barrier(4)
    results: list[bool] = []

    def claim() -> None:
        barrier.wait()
        with session_scope(factory) as session:
            results.append(claim_run("review:2026-11-23", session=session))

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, False, False, True]
