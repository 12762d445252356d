"""Export flow against the Notion fake through the real notion-client, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from bot.db import session_scope
from bot.fakes.notion import FakeNotion
from bot.fakes.server import Request, Response
from bot.integrations.notion import NotionAdapter
from bot.postmortems import service
from bot.postmortems.export import export_postmortem, push_properties, retry_pending_exports
from bot.postmortems.notion_blocks import plain_text
from bot.settings import Settings
from tests.postmortems.conftest import T0, RecordingChat, make_incident


def _export(factory, notion, chat, settings, incident_id, **kw):  # type: ignore[no-untyped-def]
    return export_postmortem(
        incident_id, session_factory=factory, notion=notion, chat=chat, settings=settings, **kw
    )


def _texts(fake: FakeNotion, page_id: str) -> list[str]:
    out = []
    for block in fake.page_blocks(page_id):
        body = block[block["type"]]
        if "rich_text" in body:
            out.append(plain_text(body["rich_text"]))
        for cell in body.get("cells", []):
            out.append(plain_text(cell))
    return out


def test_export_creates_one_page_with_properties_and_posts_the_link(
    session_factory: sessionmaker[Session],
    fake_notion: FakeNotion,
    notion: NotionAdapter,
    chat: RecordingChat,
    settings: Settings,
    database_id: str,
) -> None:
    alice = fake_notion.add_user("Alice", "Alice@Example.com")
    incident_id = make_incident(session_factory, entries=5)

    result = _export(
        session_factory,
        notion,
        chat,
        settings,
        incident_id,
        pagerduty_url="https://acme.pagerduty.com/incidents/P1",
    )

    assert result.status == "exported"
    [page] = fake_notion.pages_in(fake_notion.data_source_of(database_id))
    assert page["parent"]["type"] == "data_source_id"
    props = page["properties"]
    assert props["Incident"] == 42
    assert props["Severity"]["name"] == "SEV-2"
    assert props["Status"]["name"] == "Draft"
    assert props["Duration"] == 120
    assert [u["id"] for u in props["Owner"]] == [alice]
    assert props["PagerDuty"] == "https://acme.pagerduty.com/incidents/P1"
    assert props["Slack channel"] == "https://slack.com/app_redirect?channel=CINC42"
    texts = _texts(fake_notion, page["id"])
    assert "Postmortem owner: Alice Martin" in texts
    assert "Severity changed from SEV-3 to SEV-2 by Alice Martin" in texts
    assert any("Update number 2" in t for t in texts)
    assert "SEV-3" in texts and "20m" in texts  # time spent in SEV-3 before the upgrade
    assert result.url and result.url in chat.texts("CINC42")[0]
    assert any(ch == "CANNOUNCE" and ts == "1700000000.000100" for ch, _, ts in chat.posts)


def test_rerun_regenerates_bot_regions_keeps_human_text_and_never_duplicates(
    session_factory: sessionmaker[Session],
    fake_notion: FakeNotion,
    notion: NotionAdapter,
    chat: RecordingChat,
    settings: Settings,
    database_id: str,
) -> None:
    incident_id = make_incident(session_factory, entries=4)
    first = _export(session_factory, notion, chat, settings, incident_id)
    [page] = fake_notion.pages_in(fake_notion.data_source_of(database_id))
    # A human writes the analysis under "What happened".
    heading = next(
        b for b in fake_notion.page_blocks(page["id"], deep=False)
        if b["type"] == "heading_2" and plain_text(b["heading_2"]["rich_text"]) == "What happened"
    )  # fmt: skip
    fake_notion.blocks[heading["id"].replace("-", "")]  # exists
    notion.append_blocks(
        page["id"],
        [
            {
                "type": "paragraph",
                "paragraph": {
                    "rich_text": [{"type": "text", "text": {"content": "Human analysis"}}]
                },
            }
        ],
        after=heading["id"],
    )
    with session_scope(session_factory) as session:
        from bot.incidents import service as incidents

        incidents.add_timeline_entry(
            incident_id, session=session, kind="update", text="A brand new update",
            actor_id="UALICE", occurred_at=T0.replace(hour=10),
        )  # fmt: skip
    posts_before = len(chat.posts)

    second = _export(session_factory, notion, chat, settings, incident_id)

    assert second.status == "exported" and second.url == first.url, second.message
    assert len(fake_notion.pages_in(fake_notion.data_source_of(database_id))) == 1
    texts = _texts(fake_notion, page["id"])
    assert "Human analysis" in texts
    assert any("A brand new update" in t for t in texts)
    assert texts.count("Time (UTC)") == 1  # the old timeline table was replaced, not duplicated
    assert texts.count("What happened") == 1
    assert len(chat.posts) == posts_before  # the link is posted once


def test_lost_create_answer_is_found_by_incident_number(
    session_factory: sessionmaker[Session],
    fake_notion: FakeNotion,
    notion: NotionAdapter,
    chat: RecordingChat,
    settings: Settings,
    database_id: str,
) -> None:
    incident_id = make_incident(session_factory)

    def create_then_time_out(request: Request) -> Response:
        fake_notion.handle(request)  # Notion did create the page...
        return Response(
            504, {"object": "error", "status": 504, "code": "gateway_timeout", "message": "timeout"}
        )

    fake_notion.inject(lambda r: r.method == "POST" and r.path == "/v1/pages", create_then_time_out)

    first = _export(session_factory, notion, chat, settings, incident_id)
    assert first.status == "queued"
    second = retry_pending_exports(
        session_factory=session_factory, notion=notion, chat=chat, settings=settings,
        now=T0.replace(year=2027),
    )  # fmt: skip

    assert [r.status for r in second] == ["exported"], second
    [page] = fake_notion.pages_in(fake_notion.data_source_of(database_id))
    texts = _texts(fake_notion, page["id"])
    assert texts.count("Overview") == 1  # the partial body was rewritten, not doubled
    assert fake_notion.count("POST", "/v1/pages") == 1


def test_notion_down_queues_tells_the_channel_once_and_retries_until_it_works(
    session_factory: sessionmaker[Session],
    fake_notion: FakeNotion,
    notion: NotionAdapter,
    chat: RecordingChat,
    settings: Settings,
) -> None:
    incident_id = make_incident(session_factory)
    fake_notion.fail("/v1/", status=503, times=100)

    assert _export(session_factory, notion, chat, settings, incident_id).status == "queued"
    retry_pending_exports(
        session_factory=session_factory, notion=notion, chat=chat, settings=settings,
        now=T0.replace(year=2027),
    )  # fmt: skip
    with session_scope(session_factory) as session:
        row = service.get(incident_id, session=session)
        assert row is not None and row.export_pending and row.export_attempts == 2
    told = [t for t in chat.texts("CINC42") if "queued" in t]
    assert len(told) == 1

    fake_notion._injections.clear()
    results = retry_pending_exports(
        session_factory=session_factory, notion=notion, chat=chat, settings=settings,
        now=T0.replace(year=2028),
    )  # fmt: skip

    assert [r.status for r in results] == ["exported"]
    assert "Notion is reachable again" in chat.texts("CINC42")[-1]
    with session_scope(session_factory) as session:
        row = service.get(incident_id, session=session)
        assert row is not None and not row.export_pending and row.notion_page_id


def test_without_notion_the_postmortem_is_tracked_and_the_bot_says_so(
    session_factory: sessionmaker[Session], chat: RecordingChat
) -> None:
    incident_id = make_incident(session_factory)
    result = export_postmortem(
        incident_id, session_factory=session_factory, notion=None, chat=chat, settings=Settings()
    )
    assert result.status == "not_configured"
    assert "Notion is not configured" in chat.texts("CINC42")[0]
    with session_scope(session_factory) as session:
        row = service.get(incident_id, session=session)
        assert row is not None and row.status == "Draft" and not row.export_pending


def test_missing_database_is_explained_with_the_fix(
    session_factory: sessionmaker[Session],
    notion: NotionAdapter,
    chat: RecordingChat,
    settings: Settings,
) -> None:
    incident_id = make_incident(session_factory)
    broken = settings.model_copy(update={"notion_postmortem_database_id": "0" * 32})
    result = _export(session_factory, notion, chat, broken, incident_id)
    assert result.status == "queued"
    assert "share the page or database with the integration" in result.message
    assert "NOTION_POSTMORTEM_DATABASE_ID" in chat.texts("CINC42")[0]


def test_meeting_and_completion_are_pushed_to_the_page(
    session_factory: sessionmaker[Session],
    fake_notion: FakeNotion,
    notion: NotionAdapter,
    chat: RecordingChat,
    settings: Settings,
    database_id: str,
) -> None:
    incident_id = make_incident(session_factory)
    _export(session_factory, notion, chat, settings, incident_id)
    with session_scope(session_factory) as session:
        service.record_meeting(incident_id, T0.replace(day=5), session=session)
        service.mark_complete(incident_id, session=session)

    assert push_properties(
        incident_id, session_factory=session_factory, notion=notion, settings=settings
    )

    [page] = fake_notion.pages_in(fake_notion.data_source_of(database_id))
    assert page["properties"]["Status"]["name"] == "Complete"
    assert page["properties"]["Meeting"]["start"].startswith("2026-03-05T09:00")


def test_a_2000_entry_timeline_exports_completely_in_few_requests(
    session_factory: sessionmaker[Session],
    fake_notion: FakeNotion,
    notion: NotionAdapter,
    chat: RecordingChat,
    settings: Settings,
    database_id: str,
) -> None:
    incident_id = make_incident(session_factory, entries=2000)

    assert _export(session_factory, notion, chat, settings, incident_id).status == "exported"

    [page] = fake_notion.pages_in(fake_notion.data_source_of(database_id))
    rows = [b for b in fake_notion.page_blocks(page["id"]) if b["type"] == "table_row"]
    events = [
        plain_text(r["table_row"]["cells"][2]) for r in rows if len(r["table_row"]["cells"]) == 4
    ]
    assert sum(1 for e in events if e.startswith("Update from Bob: Update number")) == 1998
    writes = fake_notion.count("POST", "/v1/pages") + fake_notion.count("PATCH", "/children")
    assert writes <= 4  # ~2,100 block elements: 3 requests at 1,000 elements each, +1 slack


def test_notion_side_edits_survive_slack_pushes_and_reexports(
    session_factory: sessionmaker[Session],
    fake_notion: FakeNotion,
    notion: NotionAdapter,
    chat: RecordingChat,
    settings: Settings,
    database_id: str,
) -> None:
    from datetime import timedelta

    incident_id = make_incident(session_factory, entries=3)
    _export(session_factory, notion, chat, settings, incident_id)
    [page] = fake_notion.pages_in(fake_notion.data_source_of(database_id))
    # A manager moves the page to "In review" and sets a meeting date in Notion.
    notion.update_page(
        page["id"],
        {
            "Status": {"select": {"name": "In review"}},
            "Meeting": {"date": {"start": "2026-03-20T15:00:00+00:00"}},
        },
    )
    # Before the sync reads that back, Slack records its own meeting and pushes it...
    with session_scope(session_factory) as session:
        service.record_meeting(incident_id, T0 + timedelta(days=3), session=session)
    assert push_properties(
        incident_id, session_factory=session_factory, notion=notion, settings=settings
    )
    [page] = fake_notion.pages_in(fake_notion.data_source_of(database_id))
    assert page["properties"]["Status"]["name"] == "In review"  # not reset to Draft
    # ...and a re-export of the body leaves the Meeting the last writer set alone.
    notion.update_page(page["id"], {"Meeting": {"date": {"start": "2026-03-21T15:00:00+00:00"}}})
    assert _export(session_factory, notion, chat, settings, incident_id).status == "exported"
    [page] = fake_notion.pages_in(fake_notion.data_source_of(database_id))
    assert page["properties"]["Meeting"]["start"].startswith("2026-03-21")
    assert page["properties"]["Status"]["name"] == "In review"


def test_owner_lookup_refused_still_exports(
    session_factory: sessionmaker[Session],
    fake_notion: FakeNotion,
    notion: NotionAdapter,
    chat: RecordingChat,
    settings: Settings,
    database_id: str,
) -> None:
    fake_notion.add_user("Alice", "alice@example.com")
    fake_notion.fail("/v1/users", status=403, times=10)
    incident_id = make_incident(session_factory, entries=2)
    assert _export(session_factory, notion, chat, settings, incident_id).status == "exported"
    [page] = fake_notion.pages_in(fake_notion.data_source_of(database_id))
    assert not page["properties"].get("Owner")


def test_a_reexport_that_fails_halfway_does_not_duplicate_sections(
    session_factory: sessionmaker[Session],
    fake_notion: FakeNotion,
    notion: NotionAdapter,
    chat: RecordingChat,
    settings: Settings,
    database_id: str,
) -> None:
    incident_id = make_incident(session_factory, entries=3)
    _export(session_factory, notion, chat, settings, incident_id)
    [page] = fake_notion.pages_in(fake_notion.data_source_of(database_id))
    appends = {"count": 0}

    def second_append(request: Request) -> bool:
        if request.method == "PATCH" and request.path.endswith("/children"):
            appends["count"] += 1
            return appends["count"] == 2
        return False

    fake_notion.inject(
        second_append,
        lambda r: Response(503, {"object": "error", "status": 503, "code": "service_unavailable",
                                 "message": "Notion is unavailable"}),
        times=1,
    )  # fmt: skip
    failed = _export(session_factory, notion, chat, settings, incident_id)
    assert failed.status != "exported"
    assert _export(session_factory, notion, chat, settings, incident_id).status == "exported"
    texts = _texts(fake_notion, page["id"])
    assert texts.count("Time (UTC)") == 1
    assert sum(1 for t in texts if t.startswith("Postmortem owner")) == 1


def test_a_failed_meeting_push_is_written_by_the_retry_queue(
    session_factory: sessionmaker[Session],
    fake_notion: FakeNotion,
    notion: NotionAdapter,
    chat: RecordingChat,
    settings: Settings,
    database_id: str,
) -> None:
    from datetime import timedelta

    incident_id = make_incident(session_factory, entries=2)
    _export(session_factory, notion, chat, settings, incident_id)
    with session_scope(session_factory) as session:
        service.record_meeting(incident_id, T0 + timedelta(days=2), session=session)
    fake_notion.fail("/v1/pages/", status=503, times=10)
    assert not push_properties(
        incident_id, session_factory=session_factory, notion=notion, settings=settings
    )
    fake_notion._injections.clear()
    results = retry_pending_exports(
        session_factory=session_factory, notion=notion, chat=chat, settings=settings,
        now=T0.replace(year=2027),
    )  # fmt: skip
    assert [r.status for r in results] == ["exported"]
    [page] = fake_notion.pages_in(fake_notion.data_source_of(database_id))
    assert page["properties"]["Meeting"]["start"].startswith(
        (T0 + timedelta(days=2)).date().isoformat()
    )
