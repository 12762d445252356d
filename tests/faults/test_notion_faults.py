"""Notion failing under the running bot: 429, 502 and timeouts; one complete page per incident."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from bot.db import session_scope, utcnow
from bot.fakes.notion import FakeNotion
from bot.fakes.slack import FakeSlack
from bot.postmortems import jobs, service
from bot.postmortems.export import retry_pending_exports
from bot.postmortems.notion_blocks import plain_text
from bot.postmortems.setup import SCHEMA
from tests.harness import Harness, start_harness, wait_until

Start = Callable[..., Harness]


@pytest.fixture
def notion_fake() -> Iterator[FakeNotion]:
    fake = FakeNotion(requests_per_second=3.0, burst=3)  # Notion's own limit is enforced too
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def bot(fake_slack: FakeSlack, clean_engine: Engine, notion_fake: FakeNotion) -> Iterator[Harness]:
    h = start_harness(
        fake_slack,
        clean_engine,
        notion_token=notion_fake.token,
        notion_api_url=notion_fake.base_url,
        notion_postmortem_database_id=notion_fake.add_database(SCHEMA),
        notion_timeout="1s",
        postmortem_template="missing-template.md",
    )
    yield h
    h.bot.close()


def _source(h: Harness, fake: FakeNotion) -> str:
    return fake.data_source_of(h.deps.settings.notion_postmortem_database_id or "")


def _deep_texts(fake: FakeNotion, page_id: str) -> list[str]:
    out = []
    for block in fake.page_blocks(page_id):
        content = block[block["type"]]
        out.append(plain_text(content.get("rich_text") or []))
        out.extend(plain_text(cell) for cell in content.get("cells", []))
    return out


def _postmortem(h: Harness, incident_id: int) -> Any:
    with session_scope(h.deps.session_factory) as session:
        return service.get(incident_id, session=session)


def _retry_queue(h: Harness, attempt: int) -> None:
    """Run the export queue as the scheduler would once the back-off has passed."""
    retry_pending_exports(
        session_factory=h.deps.session_factory,
        notion=jobs.notion_of(h.deps),
        chat=h.deps.chat,
        settings=h.deps.settings,
        now=utcnow() + timedelta(hours=attempt + 1),
    )


def _resolve_and_settle(h: Harness, channel: str) -> None:
    assert h.command("resolve Rolled back", channel=channel).status == 200
    h.settle(timeout=60)


def _assert_one_complete_page(h: Harness, fake: FakeNotion, incident: dict[str, Any]) -> None:
    """One live page for the incident, with the body a rewrite from scratch gives, linked once."""
    pages = fake.pages_in(_source(h, fake))
    assert len(pages) == 1, [p["id"] for p in pages]
    [page] = pages
    row = _postmortem(h, incident["id"])
    assert row.notion_page_id == page["id"] and not row.export_pending and row.body_complete
    written = _deep_texts(fake, page["id"])
    with session_scope(h.deps.session_factory) as session:
        stored = service.get(incident["id"], session=session)
        assert stored is not None
        stored.body_complete = False  # the next export rewrites the whole page: the reference
    assert jobs.export_now(h.deps, incident["id"], tell_channel=False).status == "exported"
    assert _deep_texts(fake, page["id"]) == written
    assert "Overview" in written
    url = row.notion_url
    posts = [m for m in h.slack.messages(incident["channel"]) if url in m.get("text", "")]
    assert len(posts) == 1, [m["text"] for m in posts]


def test_notion_429s_are_waited_out_and_shared_with_every_process(
    bot: Harness, notion_fake: FakeNotion
) -> None:
    inc = bot.declare("declare sev2 Checkout is down")
    notion_fake.rate_limit("/v1/", retry_after=1, times=3)
    started = time.monotonic()
    _resolve_and_settle(bot, inc["channel"])
    wait_until(lambda: notion_fake.pages_in(_source(bot, notion_fake)), timeout=30)
    assert time.monotonic() - started >= 1.0
    _assert_one_complete_page(bot, notion_fake, inc)
    assert notion_fake.rate_limited_count == 0  # the bot itself never went past 3/s


@pytest.mark.parametrize("path", ["/v1/pages", "/children", "/v1/data_sources"])
def test_notion_502s_before_and_after_the_work_leave_one_complete_page(
    bot: Harness, notion_fake: FakeNotion, path: str
) -> None:
    inc = bot.declare("declare sev2 Checkout is down")
    notion_fake.fail(path, status=502, times=2)  # a gateway failing before Notion did anything
    notion_fake.lose_answer(path, status=502)  # ...and one failing after Notion did the work
    _resolve_and_settle(bot, inc["channel"])
    for attempt in range(4):
        row = _postmortem(bot, inc["id"])
        if row is not None and row.exported_at and not row.export_pending:
            break
        _retry_queue(bot, attempt)
    assert notion_fake.count(None, path) >= 4  # the faults were met
    _assert_one_complete_page(bot, notion_fake, inc)


@pytest.mark.parametrize("path", ["/v1/pages", "/v1/databases", "/children"])
def test_notion_timeouts_leave_one_complete_page(
    bot: Harness, notion_fake: FakeNotion, path: str
) -> None:
    inc = bot.declare("declare sev2 Checkout is down")
    notion_fake.stall(path, 1.5, times=2)  # answered after the bot's 1 s timeout
    _resolve_and_settle(bot, inc["channel"])
    time.sleep(1.0)  # the stalled requests land
    for attempt in range(4):
        row = _postmortem(bot, inc["id"])
        if row is not None and row.exported_at and not row.export_pending:
            break
        _retry_queue(bot, attempt)
    _assert_one_complete_page(bot, notion_fake, inc)
