"""Rendering: the PagerDuty-style template, pre-filled facts, and hostile text kept literal."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from bot.db import session_scope
from bot.fakes.notion import FakeNotion
from bot.incidents import service as incidents
from bot.integrations.notion import NotionAdapter
from bot.postmortems.export import export_postmortem
from bot.postmortems.notion_blocks import MAX_TEXT, Block, plain_text
from bot.postmortems.packing import pack_blocks
from bot.postmortems.render import build_facts, load_template, render_segments
from bot.settings import Settings
from tests.postmortems.conftest import T0, RecordingChat, make_incident

HOSTILE = [
    "# Not a heading\n- [ ] not a todo\n> not a quote\n---",
    "**bold** _it_ `code` [click me](https://evil.example/x) ![img](https://evil.example/i.png)",
    "<script>alert(1)</script> <b>html</b> | a | b | &amp; \\ backslash",
    "ping <@UALICE> and <!channel> <!here> see <https://evil.example|innocent> <#C123|general>",
    "서비스 장애: 결제가 실패합니다 🚨🔥👩‍👩‍👧‍👦",
    "x" * 10_000,
    "😀" * 1_500,  # 3,000 UTF-16 units: Notion counts like JavaScript
    "line\u2028separator\u2029paragraph\u0085next | cell",  # str.splitlines() splits these
]
TEMPLATE_HEADINGS = [
    "Overview",
    "What happened",
    "Contributing factors",
    "Resolution",
    "Impact",
    "Responders",
    "Timeline",
    "How'd we do?",
    "What went well",
    "What didn't go so well",
    "Action items",
    "Messaging",
    "Internal",
    "External",
]


def _hostile_incident(factory: sessionmaker[Session]) -> int:
    incident_id = make_incident(factory, entries=2)
    with session_scope(factory) as session:
        for i, text in enumerate(HOSTILE):
            incidents.add_timeline_entry(
                incident_id, session=session, kind="update", text=text, actor_id="UBOB",
                permalink=f"https://acme.slack.com/archives/CINC42/p17000000{i}",
                occurred_at=T0 + timedelta(minutes=30 + i),
            )  # fmt: skip
        incident = incidents.get(incident_id, session=session)
        assert incident is not None
        incident.title = "**Checkout** [down](https://evil.example) <@UALICE>"
        incident.summary = "## injected heading\n<!everyone>"
    return incident_id


def _all_blocks(blocks: list[Block]) -> list[Block]:
    out = []
    for block in blocks:
        out.append(block)
        out.extend(_all_blocks(block[block["type"]].get("children", [])))
    return out


def _rich_items(block: Block) -> list[dict[str, Any]]:
    body = block[block["type"]]
    items = list(body.get("rich_text", []))
    for cell in body.get("cells", []):
        items.extend(cell)
    return items


def _render(factory: sessionmaker[Session], incident_id: int) -> list[Block]:
    with session_scope(factory) as session:
        incident = incidents.get(incident_id, session=session)
        assert incident is not None
        entries = list(incidents.timeline(incident_id, session=session))
        facts = build_facts(
            incident, entries, names={"UALICE": "Alice Martin", "UBOB": "Bob"},
            timezone="Asia/Seoul", now=T0, pagerduty_url="https://acme.pagerduty.com/incidents/P1",
        )  # fmt: skip
    segments = render_segments(facts, template=load_template(None))
    return [block for segment in segments for block in segment.blocks]


def test_hostile_text_stays_literal_text_without_structure_links_or_mentions(
    session_factory: sessionmaker[Session],
) -> None:
    blocks = _all_blocks(_render(session_factory, _hostile_incident(session_factory)))

    headings = [plain_text(_rich_items(b)) for b in blocks if b["type"].startswith("heading")]
    assert headings == TEMPLATE_HEADINGS
    assert sum(1 for b in blocks if b["type"] == "to_do") == 1  # only the template's action item
    assert sum(1 for b in blocks if b["type"] == "divider") == 0
    items = [item for block in blocks for item in _rich_items(block)]
    assert all(item["type"] == "text" for item in items)  # no mention objects at all
    links = {item["text"]["link"]["url"] for item in items if item["text"].get("link")}
    assert not any("evil.example" in url for url in links)
    assert all(len(item["text"]["content"].encode("utf-16-le")) // 2 <= MAX_TEXT for item in items)

    rows = [b for b in blocks if b["type"] == "table_row" and len(b["table_row"]["cells"]) == 4]
    events = [plain_text(row["table_row"]["cells"][2]) for row in rows]
    for text in HOSTILE[:2] + HOSTILE[4:]:
        assert any(text in event for event in events), text[:40]
    assert any(
        "<script>alert(1)</script> <b>html</b> | a | b | & \\ backslash" in e for e in events
    )
    assert any(
        "ping @Alice Martin and @channel @here see innocent (https://evil.example) #general" in e
        for e in events
    )
    texts = [plain_text(_rich_items(b)) for b in blocks]
    assert any('"**Checkout** [down](https://evil.example) <@UALICE>"' in t for t in texts)
    assert any("## injected heading\n@everyone" in t for t in texts)


def test_prefilled_facts_follow_the_pagerduty_template(
    session_factory: sessionmaker[Session],
) -> None:
    incident_id = make_incident(session_factory, entries=3)
    with session_scope(session_factory) as session:
        for kind, minutes in (("pagerduty_trigger", -5), ("pagerduty_acknowledge", 4)):
            incidents.add_timeline_entry(
                incident_id, session=session, kind=kind, text="Checkout API errors",
                occurred_at=T0 + timedelta(minutes=minutes),
            )  # fmt: skip

    blocks = _all_blocks(_render(session_factory, incident_id))
    texts = [plain_text(_rich_items(b)) for b in blocks]
    cells = [
        [plain_text(cell) for cell in b["table_row"]["cells"]]
        for b in blocks
        if b["type"] == "table_row"
    ]

    assert "Postmortem owner: Alice Martin" in texts
    assert "Meeting scheduled for: not scheduled yet" in texts
    assert any(t.startswith("Call recording:") for t in texts)
    assert "Time to acknowledge: 9m" in texts  # PagerDuty trigger to acknowledge
    assert "Time to resolve: 2h 5m" in texts
    assert ["SEV-3", "20m"] in cells and ["SEV-2", "1h 40m"] in cells
    assert "Commander: Alice Martin" in texts and "Comms: Bob" in texts
    assert ["Time (UTC)", "Time (Asia/Seoul)", "Event", "Link"] in cells
    assert [
        "2026-03-02 09:00 UTC",
        "2026-03-02 18:00 KST",
        "Declared by Bob: Checkout down",
        "",
    ] in (cells)
    assert any(row[2:3] == ["PagerDuty acknowledge: Checkout API errors"] for row in cells)
    links = [
        item["text"]["link"]["url"]
        for b in blocks
        for item in _rich_items(b)
        if item["text"].get("link")
    ]
    assert "https://acme.slack.com/archives/CINC42/p1700000000" in links
    assert "https://acme.pagerduty.com/incidents/P1" in links
    assert "https://slack.com/app_redirect?channel=CINC42" in links


def test_hostile_page_is_accepted_by_notion_in_full(
    session_factory: sessionmaker[Session],
    fake_notion: FakeNotion,
    notion: NotionAdapter,
    chat: RecordingChat,
    settings: Settings,
    database_id: str,
) -> None:
    incident_id = _hostile_incident(session_factory)

    result = export_postmortem(
        incident_id, session_factory=session_factory, notion=notion, chat=chat, settings=settings
    )

    assert result.status == "exported", result.message
    [page] = fake_notion.pages_in(fake_notion.data_source_of(database_id))
    title = plain_text(page["properties"]["Title"])
    assert title == "#42 **Checkout** [down](https://evil.example) <@UALICE>"
    cells = [
        plain_text(block["table_row"]["cells"][2])
        for block in fake_notion.page_blocks(page["id"])
        if block["type"] == "table_row" and len(block["table_row"]["cells"]) == 4
    ]
    assert any("x" * 10_000 in cell for cell in cells)
    assert any("😀" * 1_500 in cell for cell in cells)


def test_packing_respects_children_elements_and_payload_caps() -> None:
    row = {
        "type": "table_row",
        "table_row": {"cells": [[{"type": "text", "text": {"content": "a"}}]]},
    }
    table = {
        "type": "table",
        "table": {"table_width": 1, "has_column_header": True, "children": [row] * 2_001},
    }
    text = [{"type": "text", "text": {"content": "p"}}]
    paragraphs = [{"type": "paragraph", "paragraph": {"rich_text": text}}] * 250

    batches = pack_blocks([*paragraphs, table])

    for batch in batches:
        assert len(batch) <= 100
        elements = sum(1 + len(b[b["type"]].get("children", [])) for b in batch)
        assert elements <= 1000
        for block in batch:
            assert len(block[block["type"]].get("children", [])) <= 100
    rows = [
        r
        for batch in batches
        for b in batch
        if b["type"] == "table"
        for r in b["table"]["children"]
    ]
    tables = sum(1 for batch in batches for b in batch if b["type"] == "table")
    assert len(rows) - tables == 2_000  # every data row, plus the header repeated per table


def test_a_broken_team_template_falls_back_to_the_built_in_one(
    session_factory: sessionmaker[Session],
) -> None:
    incident_id = make_incident(session_factory, entries=2)
    with session_scope(session_factory) as session:
        incident = incidents.get(incident_id, session=session)
        assert incident is not None
        entries = list(incidents.timeline(incident_id, session=session))
        facts = build_facts(incident, entries, names={}, timezone="UTC", now=T0 + timedelta(days=1))
    segments = render_segments(facts, template="# {{ pm.ownr.name }} {% if %}")
    blocks = [block for segment in segments for block in segment.blocks]
    headings = [
        plain_text(_rich_items(b)) for b in _all_blocks(blocks) if b["type"].startswith("heading")
    ]
    assert headings == TEMPLATE_HEADINGS
