"""Shared state and helpers of the fake Notion API; bot.fakes.notion is the server."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import Any

API_VERSION = "2025-09-03"
MAX_TEXT = 2000
MAX_ARRAY = 100
MAX_ELEMENTS = 1000
MAX_BYTES = 500_000
BLOCK_TYPES = {
    "paragraph", "heading_1", "heading_2", "heading_3", "bulleted_list_item",
    "numbered_list_item", "to_do", "toggle", "quote", "callout", "divider", "table", "table_row",
}  # fmt: skip
CHILDLESS = {"divider", "table_row", "heading_1", "heading_2", "heading_3"}
PROPERTY_TYPES = {
    "title", "rich_text", "number", "select", "multi_select", "status", "people", "date",
    "url", "email", "checkbox", "relation",
}  # fmt: skip


class NotionFailure(Exception):
    """An error answer in Notion's shape."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def invalid(message: str) -> NotionFailure:
    """Return a 400 validation_error failure."""
    return NotionFailure(400, "validation_error", message)


def key_of(object_id: str) -> str:
    """Return the canonical (undashed, lower-case) form of a Notion id."""
    return object_id.replace("-", "").lower()


def utc_now() -> datetime:
    """Return the current UTC time."""
    return datetime.now(UTC)


def iso(at: datetime) -> str:
    """Format a time as Notion does."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def parse_time(value: str) -> datetime:
    """Parse an ISO 8601 time (Z or offset) into an aware datetime."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def utf16_len(text: str) -> int:
    """Return the length of text in UTF-16 units, as Notion counts it."""
    return len(text.encode("utf-16-le")) // 2


class NotionStore:
    """The fake workspace in memory, and the lookups every part of the API shares."""

    databases: dict[str, dict[str, Any]]
    data_sources: dict[str, dict[str, Any]]
    pages: dict[str, dict[str, Any]]
    blocks: dict[str, dict[str, Any]]
    children: dict[str, list[str]]
    users: dict[str, dict[str, Any]]
    user_emails_visible: bool
    bot_id: str
    _state: threading.RLock

    def pages_in(self, data_source_id: str) -> list[dict[str, Any]]:
        """Return the live pages of a data source."""
        with self._state:
            return [
                p
                for p in self.pages.values()
                if p["parent"].get("data_source_id") == data_source_id and not p["in_trash"]
            ]

    def _find(self, table: dict[str, dict[str, Any]], object_id: str, kind: str) -> dict[str, Any]:
        found = table.get(key_of(object_id))
        if found is None or not self._shared(found):
            raise NotionFailure(
                404,
                "object_not_found",
                f"Could not find {kind} with ID: {object_id}. Make sure the relevant pages and "
                "databases are shared with your integration.",
            )
        return found

    def _shared(self, obj: dict[str, Any]) -> bool:
        if "shared" in obj:
            return bool(obj["shared"])
        parent = obj.get("parent")  # a block's parent is the id of a page or block
        in_database = parent.get("database_id") if isinstance(parent, dict) else None
        database_id = obj.get("database_id") or in_database
        if database_id and key_of(database_id) in self.databases:
            return bool(self.databases[key_of(database_id)].get("shared", True))
        return True

    def _find_parent(self, object_id: str) -> dict[str, Any]:
        if key_of(object_id) in self.blocks:
            return self._find(self.blocks, object_id, "block")
        return self._find(self.pages, object_id, "block")

    def _visible_users(self) -> list[dict[str, Any]]:
        users = []
        for user in self.users.values():
            shown = json.loads(json.dumps(user))
            if not self.user_emails_visible and "person" in shown:
                shown["person"] = {}
            users.append(shown)
        return users

    def _paginate(self, items: list[Any], params: dict[str, Any], kind: str) -> dict[str, Any]:
        size = int(params.get("page_size") or 100)
        if not 1 <= size <= MAX_ARRAY:
            raise invalid(f"body.page_size should be ≤ `100`, instead was `{size}`.")
        start = 0
        if params.get("start_cursor"):
            ids = [key_of(item["id"]) for item in items]
            if key_of(params["start_cursor"]) not in ids:
                raise invalid("start_cursor should be a valid cursor.")
            start = ids.index(key_of(params["start_cursor"]))
        page = items[start : start + size]
        more = start + size < len(items)
        return {
            "object": "list",
            "results": page,
            "next_cursor": items[start + size]["id"] if more else None,
            "has_more": more,
            "type": "page_or_data_source" if kind == "page" else kind,
            ("page_or_data_source" if kind == "page" else kind): {},
        }

    def _touch(self, page: dict[str, Any]) -> None:
        # Notion rounds last_edited_time down to the minute.
        page["last_edited_time"] = iso(utc_now().replace(second=0, microsecond=0))

    def _touch_page_of(self, object_id: str) -> None:
        while key_of(object_id) in self.blocks:
            object_id = self.blocks[key_of(object_id)]["parent"]
        page = self.pages.get(key_of(object_id))
        if page is not None:
            self._touch(page)

    def _with_plain(self, item: dict[str, Any]) -> dict[str, Any]:
        text = item.get("text", {})
        annotations = {
            **dict.fromkeys(("bold", "italic", "strikethrough", "underline", "code"), False),
            "color": "default",
            **item.get("annotations", {}),
        }
        return {
            "type": "text",
            "text": {"content": text.get("content", ""), "link": text.get("link")},
            "annotations": annotations,
            "plain_text": text.get("content", ""),
            "href": (text.get("link") or {}).get("url"),
        }

    def _plain(self, items: list[dict[str, Any]]) -> str:
        return "".join(i.get("text", {}).get("content", "") for i in items)

    def _validate_rich_text(self, items: Any, path: str) -> None:
        if not isinstance(items, list):
            raise invalid(f"{path} should be an array.")
        if len(items) > MAX_ARRAY:
            raise invalid(f"{path}.length should be ≤ `100`, instead was `{len(items)}`.")
        for index, item in enumerate(items):
            text = item.get("text") if isinstance(item, dict) else None
            if not isinstance(text, dict) or not isinstance(text.get("content"), str):
                raise invalid(f"{path}[{index}].text.content should be defined.")
            length = utf16_len(text["content"])
            if length > MAX_TEXT:
                raise invalid(
                    f"{path}[{index}].text.content.length should be ≤ `2000`, "
                    f"instead was `{length}`."
                )
            link = text.get("link")
            if link and len(link.get("url", "")) > MAX_TEXT:
                raise invalid(f"{path}[{index}].text.link.url.length should be ≤ `2000`.")

    def _public(self, obj: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in obj.items() if k != "shared"}
