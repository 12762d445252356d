"""A re-export that loses an append answer leaves no orphan blocks; a trashed page is recreated."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from bot.db import session_scope
from bot.fakes.notion import FakeNotion
from bot.incidents import service as incidents
from bot.integrations.notion import NotionAdapter
from bot.postmortems import service
from bot.postmortems.export import export_postmortem, retry_pending_exports
from bot.postmortems.notion_blocks import plain_text
from bot.settings import Settings
from tests.postmortems.conftest import T0, RecordingChat, make_incident

LATER = T0.replace(year=2027)


def _export(factory, notion, chat, settings, incident_id):  # type: ignore[no-untyped-def]
    return export_postmortem(
        incident_id, session_factory=factory, notion=notion, chat=chat, settings=settings
    )


def _retry(factory, notion, chat, settings, *, years: int = 1):  # type: ignore[no-untyped-def]
    return retry_pending_exports(
        session_factory=factory, notion=notion, chat=chat, settings=settings,
        now=T0.replace(year=T0.year + years),
    )  # fmt: skip


def _add_update(factory: sessionmaker[Session], incident_id: int, text: str, minute: int) -> None:
    with session_scope(factory) as session:
        incidents.add_timeline_entry(
            incident_id, session=session, kind="update", text=text, actor_id="UALICE",
            occurred_at=T0 + timedelta(minutes=minute),
        )  # fmt: skip


def _reexport_after_a_lost_append(
    factory: sessionmaker[Session],
    fake: FakeNotion,
    notion: NotionAdapter,
    chat: RecordingChat,
    settings: Settings,
    lose: str,
) -> None:
    incident_id = make_incident(factory, entries=4)
    assert _export(factory, notion, chat, settings, incident_id).status == "exported"
    _add_update(factory, incident_id, "Rolled back the gateway", 50)
    [page] = fake.pages_in(fake.data_source_of(settings.notion_postmortem_database_id or ""))
    if lose == "502":
        fake.lose_answer("/children", method="PATCH", status=502)
    else:
        fake.stall("/children", 1.5, method="PATCH")

    failed = _export(factory, notion, chat, settings, incident_id)

    assert failed.status == "queued", failed
    time.sleep(1.2 if lose == "timeout" else 0)  # the stalled append lands before the retry
    with session_scope(factory) as session:
        row = service.get(incident_id, session=session)
        assert row is not None and row.pending_append and row.pending_append["digests"]
    # Retry, then export again: the page must be exactly what a rewrite from scratch gives.
    assert [r.status for r in _retry(factory, notion, chat, settings)] == ["exported"]
    recovered = _deep_texts(fake, page["id"])
    assert _export(factory, notion, chat, settings, incident_id).status == "exported"
    assert _deep_texts(fake, page["id"]) == recovered
    with session_scope(factory) as session:
        row = service.get(incident_id, session=session)
        assert row is not None
        row.body_complete = False  # the next export rewrites the whole page
    assert _export(factory, notion, chat, settings, incident_id).status == "exported"
    assert recovered == _deep_texts(fake, page["id"])
    assert sum("Rolled back the gateway" in t for t in recovered) == 1
    with session_scope(factory) as session:
        row = service.get(incident_id, session=session)
        assert row is not None and row.pending_append is None and not row.export_pending


def _deep_texts(fake: FakeNotion, page_id: str) -> list[str]:
    out = []
    for block in fake.page_blocks(page_id):
        content = block[block["type"]]
        out.append(plain_text(content.get("rich_text") or []))
        out.extend(plain_text(cell) for cell in content.get("cells", []))
    return out


def test_an_append_whose_answer_is_lost_leaves_no_orphan_blocks(
    session_factory: sessionmaker[Session],
    fake_notion: FakeNotion,
    notion: NotionAdapter,
    chat: RecordingChat,
    settings: Settings,
) -> None:
    _reexport_after_a_lost_append(session_factory, fake_notion, notion, chat, settings, "502")


def test_an_append_that_times_out_after_notion_wrote_it_leaves_no_orphan_blocks(
    session_factory: sessionmaker[Session],
    fake_notion: FakeNotion,
    chat: RecordingChat,
    settings: Settings,
) -> None:
    impatient = NotionAdapter(
        fake_notion.token, base_url=fake_notion.base_url, timeout=0.5, requests_per_second=0,
        sleep=lambda _s: None,
    )  # fmt: skip
    try:
        _reexport_after_a_lost_append(
            session_factory, fake_notion, impatient, chat, settings, "timeout"
        )
    finally:
        impatient.close()


def test_a_trashed_page_is_recreated_and_the_channel_is_told(
    session_factory: sessionmaker[Session],
    fake_notion: FakeNotion,
    notion: NotionAdapter,
    chat: RecordingChat,
    settings: Settings,
    database_id: str,
) -> None:
    incident_id = make_incident(session_factory, entries=3)
    first = _export(session_factory, notion, chat, settings, incident_id)
    [old] = fake_notion.pages_in(fake_notion.data_source_of(database_id))
    fake_notion.trash_page(old["id"])

    second = _export(session_factory, notion, chat, settings, incident_id)

    assert second.status == "exported" and second.url != first.url
    [new] = fake_notion.pages_in(fake_notion.data_source_of(database_id))
    assert new["id"] != old["id"] and new["properties"]["Incident"] == 42
    assert "Overview" in _deep_texts(fake_notion, new["id"])
    told = [t for t in chat.texts("CINC42") if "trash" in t]
    assert len(told) == 1 and second.url and second.url in told[0]
    # A later re-export updates the new page and says nothing more.
    posts = len(chat.posts)
    assert _export(session_factory, notion, chat, settings, incident_id).url == second.url
    assert len(chat.posts) == posts


def test_a_trashed_page_is_recreated_even_when_notion_fails_at_first(
    session_factory: sessionmaker[Session],
    fake_notion: FakeNotion,
    notion: NotionAdapter,
    chat: RecordingChat,
    settings: Settings,
    database_id: str,
) -> None:
    incident_id = make_incident(session_factory, entries=3)
    _export(session_factory, notion, chat, settings, incident_id)
    [old] = fake_notion.pages_in(fake_notion.data_source_of(database_id))
    fake_notion.trash_page(old["id"])
    fake_notion.inject(
        lambda r: r.method == "POST" and r.path == "/v1/pages",
        lambda r: fake_notion.error_response(503),
    )

    assert _export(session_factory, notion, chat, settings, incident_id).status == "queued"
    [result] = _retry(session_factory, notion, chat, settings)

    assert result.status == "exported"
    [new] = fake_notion.pages_in(fake_notion.data_source_of(database_id))
    assert new["id"] != old["id"] and result.url
    assert any(result.url in t for t in chat.texts("CINC42"))


def _paragraph(text: str) -> dict[str, object]:
    return {"type": "paragraph", "paragraph": {"rich_text": [{"text": {"content": text}}]}}


def test_the_cleanup_never_removes_blocks_that_are_not_exactly_the_lost_append(
    fake_notion: FakeNotion, notion: NotionAdapter
) -> None:
    from bot.postmortems.body import digest, remove_lost_append

    page = fake_notion.add_page("Postmortem")
    [anchor] = notion.append_blocks(page, [_paragraph("Timeline")])
    notion.append_blocks(page, [_paragraph("Team notes"), _paragraph("More notes")])
    ours = [digest("paragraph", "Row 1"), digest("paragraph", "Row 2")]

    # The lost append never reached Notion: what follows the anchor is the team's.
    assert remove_lost_append(notion, page, {"after": anchor, "digests": ours}) == 0
    # A partial match is not ours either.
    notion.append_blocks(page, [_paragraph("Row 1")], after=anchor)
    assert remove_lost_append(notion, page, {"after": anchor, "digests": ours}) == 0
    # The anchor is gone: nothing to compare against, nothing removed.
    assert remove_lost_append(notion, page, {"after": "0" * 32, "digests": ours}) == 0
    texts = [plain_text(b["paragraph"]["rich_text"]) for b in fake_notion.page_blocks(page)]
    assert texts == ["Timeline", "Row 1", "Team notes", "More notes"]

    # Exactly the lost batch right after the anchor: removed, and only it.
    notion.append_blocks(page, [_paragraph("Row 2")], after=fake_notion.page_blocks(page)[1]["id"])
    assert remove_lost_append(notion, page, {"after": anchor, "digests": ours}) == 2
    texts = [plain_text(b["paragraph"]["rich_text"]) for b in fake_notion.page_blocks(page)]
    assert texts == ["Timeline", "Team notes", "More notes"]
