"""Read a postmortem page back from Notion (the fake) as markdown, as it reads there."""

from __future__ import annotations

from typing import Any

from notion_client import Client

_PREFIX = {
    "heading_1": "# ",
    "heading_2": "## ",
    "heading_3": "### ",
    "bulleted_list_item": "- ",
    "numbered_list_item": "1. ",
    "quote": "> ",
    "callout": "> ",
}


def rich_text(items: list[dict[str, Any]]) -> str:
    """Return markdown for Notion rich text (bold, italic, code, links)."""
    out = []
    for item in items:
        text = str(item.get("plain_text") or (item.get("text") or {}).get("content", ""))
        notes = item.get("annotations") or {}
        if notes.get("code"):
            text = f"`{text}`"
        if notes.get("bold"):
            text = f"**{text}**"
        if notes.get("italic"):
            text = f"*{text}*"
        link = item.get("href") or ((item.get("text") or {}).get("link") or {}).get("url")
        out.append(f"[{text}]({link})" if link else text)
    return "".join(out)


def property_text(prop: dict[str, Any]) -> str:
    """Return a page property's value as text."""
    kind = prop.get("type")
    value = prop.get(kind) if kind else None
    if value is None:
        return ""
    if kind in ("title", "rich_text"):
        return rich_text(value)
    if kind == "select":
        return str(value.get("name", ""))
    if kind == "date":
        return str(value.get("start", "")) + (f" → {value['end']}" if value.get("end") else "")
    if kind == "people":
        return ", ".join(str(p.get("name") or p.get("id")) for p in value)
    return str(value)


_LIST_KINDS = {"bulleted_list_item", "numbered_list_item", "to_do"}


def _is_list_line(line: str) -> bool:
    return line.lstrip().startswith(("- ", "1. "))


class NotionReader:
    """Fetch pages and blocks through the official client."""

    def __init__(self, token: str, base_url: str) -> None:
        self.client = Client(auth=token, base_url=base_url)

    def children(self, block_id: str) -> list[dict[str, Any]]:
        """Return every child block, following pagination."""
        found: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            kwargs: dict[str, Any] = {"block_id": block_id, "page_size": 100}
            if cursor:
                kwargs["start_cursor"] = cursor
            page: Any = self.client.blocks.children.list(**kwargs)
            found.extend(page["results"])
            if not page.get("has_more"):
                return found
            cursor = page.get("next_cursor")

    def markdown(self, page_id: str) -> str:
        """Return the page as markdown: the title, the properties table, then the body."""
        page: Any = self.client.pages.retrieve(page_id=page_id)
        props: dict[str, Any] = page["properties"]
        title = next((property_text(p) for p in props.values() if p.get("type") == "title"), "")
        lines = [f"# {title}", "", "| Property | Value |", "|---|---|"]
        for name, prop in props.items():
            if prop.get("type") != "title":
                lines.append(f"| {name} | {property_text(prop)} |")
        lines += ["", f"<!-- {page['url']} -->", ""]
        self._blocks(page_id, lines)
        return "\n".join(lines).rstrip() + "\n"

    def _blocks(self, parent: str, lines: list[str], indent: str = "") -> None:
        for block in self.children(parent):
            kind = block["type"]
            body = block.get(kind) or {}
            listed = kind in _LIST_KINDS
            if lines and lines[-1] and not listed and _is_list_line(lines[-1]):
                lines.append("")
            if kind == "divider":
                lines += ["---", ""]
            elif kind == "table":
                self._table(block["id"], lines, header=bool(body.get("has_column_header")))
            elif kind == "to_do":
                mark = "x" if body.get("checked") else " "
                lines.append(f"{indent}- [{mark}] {rich_text(body.get('rich_text') or [])}")
            elif kind == "code":
                lines += ["```", rich_text(body.get("rich_text") or []), "```", ""]
            else:
                text = rich_text(body.get("rich_text") or [])
                lines.append(indent + _PREFIX.get(kind, "") + text)
                if not listed:
                    lines.append("")
            if block.get("has_children") and kind != "table":
                self._blocks(block["id"], lines, indent + "  ")

    def _table(self, table_id: str, lines: list[str], *, header: bool) -> None:
        rows = [
            [rich_text(cell).replace("|", "\\|") for cell in row["table_row"]["cells"]]
            for row in self.children(table_id)
        ]
        if not rows:
            return
        width = max(len(r) for r in rows)
        head = rows[0] if header else [""] * width
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "---|" * width)
        for row in rows[1:] if header else rows:
            lines.append("| " + " | ".join(row) + " |")
        lines.append("")
