"""The Notion adapter over the real notion-client, against the fake: limits, 429, 5xx, timeouts."""

from __future__ import annotations

import time
from typing import Any

import pytest
from notion_client import Client
from notion_client.errors import APIResponseError

from bot.fakes.notion import FakeNotion
from bot.fakes.server import Request, Response
from bot.integrations.notion import NotionAdapter
from bot.integrations.notion_limit import NotionRateLimiter
from bot.integrations.ports import AuthError, IntegrationError, NotFound
from bot.postmortems.setup import SCHEMA


def _text(content: str) -> dict[str, Any]:
    return {"type": "text", "text": {"content": content}}


def _paragraph(content: str) -> dict[str, Any]:
    return {"type": "paragraph", "paragraph": {"rich_text": [_text(content)]}}


def _client(fake: FakeNotion) -> Client:
    return Client(auth=fake.token, base_url=fake.base_url, retry=False)


def test_fake_enforces_notion_limits_with_validation_errors(
    fake_notion: FakeNotion, database_id: str
) -> None:
    client = _client(fake_notion)
    parent = {"type": "data_source_id", "data_source_id": fake_notion.data_source_of(database_id)}
    title = {"Title": {"title": [_text("ok")]}}
    cases = [
        ([_paragraph("x" * 2001)], "should be ≤ `2000`"),
        ([_paragraph("x")] * 101, "length should be ≤ `100`"),
        (
            [{"type": "paragraph", "paragraph": {"rich_text": [_text("a")] * 101}}],
            "length should be ≤ `100`",
        ),
        (
            [
                {
                    "type": "toggle",
                    "toggle": {
                        "rich_text": [_text("1")],
                        "children": [
                            {
                                "type": "toggle",
                                "toggle": {
                                    "rich_text": [_text("2")],
                                    "children": [_paragraph("3")],
                                },
                            }
                        ],
                    },
                }
            ],
            "two levels",
        ),
    ]
    for children, message in cases:
        with pytest.raises(APIResponseError) as caught:
            client.pages.create(parent=parent, properties=title, children=children)
        assert caught.value.status == 400
        assert caught.value.code == "validation_error"
        assert message in str(caught.value)
    assert fake_notion.pages_in(parent["data_source_id"]) == []
    with pytest.raises(APIResponseError) as missing:
        client.pages.retrieve("0" * 32)
    assert (missing.value.status, missing.value.code) == (404, "object_not_found")


def test_429_waits_for_retry_after_then_succeeds(
    fake_notion: FakeNotion, notion: NotionAdapter, database_id: str, sleeps: list[float]
) -> None:
    fake_notion.rate_limit("/v1/databases", retry_after=7)

    source = notion.data_source_id(database_id)

    assert source == fake_notion.data_source_of(database_id)
    assert any(6.5 < wait <= 7 for wait in sleeps), sleeps
    assert fake_notion.count("GET", "/v1/databases") == 2


def test_5xx_and_timeouts_are_retried_with_backoff(
    fake_notion: FakeNotion, database_id: str, sleeps: list[float]
) -> None:
    adapter = NotionAdapter(
        fake_notion.token, base_url=fake_notion.base_url, timeout=0.3,
        requests_per_second=0, sleep=sleeps.append,
    )  # fmt: skip
    source = fake_notion.data_source_of(database_id)
    fake_notion.fail("/v1/data_sources", status=503, times=2)

    def slow(request: Request) -> Response:
        time.sleep(0.45)  # past the 0.3 s client timeout (the fake answers under its lock)
        return Response(200, {})

    fake_notion.inject(lambda r: r.path.startswith("/v1/databases"), slow)
    try:
        assert adapter.schema(source)["Incident"] == "number"
        assert adapter.data_source_id(database_id) == source
    finally:
        adapter.close()

    assert fake_notion.count("GET", "/v1/data_sources") == 3
    assert fake_notion.count("GET", "/v1/databases") >= 2  # timed out, then retried
    assert len(sleeps) >= 3 and all(wait > 0 for wait in sleeps)
    assert sleeps[1] > sleeps[0] * 0.9  # backoff grows (with jitter)


def test_errors_name_the_fix(fake_notion: FakeNotion, notion: NotionAdapter) -> None:
    with pytest.raises(NotFound, match="share the page or database with the integration"):
        notion.data_source_id("0" * 32)
    bad = NotionAdapter("secret_wrong", base_url=fake_notion.base_url, requests_per_second=0)
    try:
        with pytest.raises(AuthError, match="NOTION_TOKEN"):
            bad.data_source_id("0" * 32)
    finally:
        bad.close()
    broken = fake_notion.add_database({"Name": {"title": {}}})
    source = notion.data_source_id(broken)
    with pytest.raises(IntegrationError, match="notion-setup --database"):
        notion.create_page(source, {"Incident": {"number": 1}}, [])


def test_limiter_spaces_requests_at_three_per_second() -> None:
    granted: list[float] = []
    limiter = NotionRateLimiter(3.0, sleep=lambda wait: granted.append(time.monotonic() + wait))

    for _ in range(31):
        limiter.acquire()

    # The first slot is free; the other 30 are booked 1/3 s apart, so the average stays at 3/s.
    assert len(granted) == 30
    span = granted[-1] - granted[0]
    assert span == pytest.approx(29 / 3, abs=0.05)


def test_schema_of_a_created_database_is_exact(
    notion: NotionAdapter, fake_notion: FakeNotion
) -> None:
    parent = fake_notion.add_page()
    database_id = notion.create_database(parent, "Postmortems", SCHEMA)
    schema = notion.schema(notion.data_source_id(database_id))
    assert schema == {name: next(iter(config)) for name, config in SCHEMA.items()}
