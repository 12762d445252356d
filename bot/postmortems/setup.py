"""`sevbot notion-setup`: create the postmortem database, or check an existing one's schema."""

from __future__ import annotations

import re
from typing import Any

from bot.integrations.ports import NotionPort

STATUS_OPTIONS = [
    {"name": "Draft", "color": "gray"},
    {"name": "In review", "color": "yellow"},
    {"name": "Complete", "color": "green"},
]

# Property name -> Notion property configuration; the type is the single key.
SCHEMA: dict[str, dict[str, Any]] = {
    "Title": {"title": {}},
    "Incident": {"number": {"format": "number"}},
    "Severity": {"select": {"options": []}},
    "Status": {"select": {"options": STATUS_OPTIONS}},
    "Owner": {"people": {}},
    "Declared": {"date": {}},
    "Resolved": {"date": {}},
    "Duration": {"number": {"format": "number"}},
    "Slack channel": {"url": {}},
    "PagerDuty": {"url": {}},
    "Meeting": {"date": {}},
}
PROPERTY_TYPES = {name: next(iter(config)) for name, config in SCHEMA.items()}

_ID = re.compile(
    r"([0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12})"
)


def parse_page_id(page: str) -> str:
    """Return the page id in a Notion page id or URL (the last 32 hex digits), dashed."""
    matches = _ID.findall(page.split("?")[0])
    if not matches:
        raise ValueError(f"{page!r} is not a Notion page id or URL")
    raw = matches[-1].replace("-", "").lower()
    return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"


def setup_database(
    notion: NotionPort,
    parent_page: str,
    *,
    severities: list[str] | None = None,
    title: str = "Postmortems",
) -> str:
    """Create the postmortem database under a page (id or URL) and return its id."""
    schema = {name: dict(config) for name, config in SCHEMA.items()}
    if severities:
        schema["Severity"] = {"select": {"options": [{"name": name} for name in severities]}}
    return notion.create_database(parse_page_id(parent_page), title, schema)


def check_database(notion: NotionPort, database_id: str) -> list[str]:
    """Return the schema problems of an existing database (missing or wrongly typed properties)."""
    actual = notion.schema(notion.data_source_id(database_id))
    problems = []
    for name, kind in PROPERTY_TYPES.items():
        if kind == "title":
            titles = [n for n, t in actual.items() if t == "title"]
            if name not in actual and titles:
                problems.append(f"the title property is named {titles[0]!r}; rename it to {name!r}")
                continue
        if name not in actual:
            problems.append(f"property {name!r} is missing; add it with type {kind}")
        elif actual[name] != kind:
            problems.append(f"property {name!r} has type {actual[name]}; change it to {kind}")
    return problems
