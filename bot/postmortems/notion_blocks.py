"""Markdown (the subset our template uses) to Notion blocks; packing.py splits them into requests.

User text reaches this module already escaped by `md_escape`, so only the template's own
markup can make headings, tables, links or emphasis. Notion's limits (developers.notion.com,
"Request limits"): 2,000 characters per rich-text item, 100 items per rich-text array,
100 children per array, 1,000 block elements and 500KB per request, two levels of nesting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

Block = dict[str, Any]

MAX_TEXT = 2000
MAX_RICH_TEXT_ITEMS = 100

_ESCAPED = set("\\`*_{}[]()#+-.!|<>~")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_MARKER = re.compile(r"^<!--\s*sevbot:(begin|end)\s+([\w-]+)\s*-->$")
_COMMENT = re.compile(r"^<!--.*-->$")
_HEADING = re.compile(r"^(#{1,3})\s+(.*)$")
_TODO = re.compile(r"^[-*]\s+\[([ xX])\]\s+(.*)$")
_BULLET = re.compile(r"^[-*]\s+(.*)$")
_NUMBERED = re.compile(r"^\d+\.\s+(.*)$")
_SEPARATOR = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?$")
_SAFE_URL = re.compile(r"^(https?://|mailto:)[^\s<>\"]+$")


class Trusted(str):
    """Markdown produced by our own code (links, line breaks) that must not be escaped again."""


def md_escape(text: object) -> Trusted:
    """Escape user text so that it renders literally: no structure, links or emphasis."""
    raw = _CONTROL.sub("", str(text)).replace("\r\n", "\n").replace("\r", "\n")
    out = []
    for char in raw:
        if char == "\n":
            out.append("<br>")
        elif char in _ESCAPED:
            out.append("\\" + char)
        else:
            out.append(char)
    return Trusted("".join(out))


def md_link(label: object, url: str | None) -> Trusted:
    """Return a markdown link when the URL is a safe http(s)/mailto URL, else the escaped label."""
    if not url or not _SAFE_URL.match(url) or len(url) > MAX_TEXT:
        return md_escape(label)
    encoded = url.replace("(", "%28").replace(")", "%29")
    return Trusted(f"[{md_escape(label)}]({encoded})")


# ---- inline: markdown spans to rich text --------------------------------------------------


@dataclass
class _Span:
    text: str
    bold: bool = False
    italic: bool = False
    code: bool = False
    url: str | None = None


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Split text into pieces of at most `limit` UTF-16 units (Notion counts like JavaScript)."""
    if _utf16_len(text) <= limit:
        return [text]
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for char in text:
        width = 2 if ord(char) > 0xFFFF else 1
        if size + width > limit:
            pieces.append("".join(current))
            current, size = [], 0
        current.append(char)
        size += width
    if current:
        pieces.append("".join(current))
    return pieces


def _parse_inline(source: str) -> list[_Span]:
    spans: list[_Span] = []
    buf: list[str] = []
    bold = italic = False

    def flush() -> None:
        if buf:
            spans.append(_Span("".join(buf), bold=bold, italic=italic))
            buf.clear()

    i = 0
    while i < len(source):
        char = source[i]
        if char == "\\" and i + 1 < len(source):
            buf.append(source[i + 1])
            i += 2
        elif source.startswith("<br>", i):
            buf.append("\n")
            i += 4
        elif source.startswith("**", i):
            flush()
            bold = not bold
            i += 2
        elif char == "*":
            flush()
            italic = not italic
            i += 1
        elif char == "`" and (end := source.find("`", i + 1)) != -1:
            flush()
            spans.append(_Span(source[i + 1 : end], code=True))
            i = end + 1
        elif char == "[" and (link := _match_link(source, i)) is not None:
            flush()
            label, url, i = link
            for span in _parse_inline(label):
                spans.append(_Span(span.text, bold=bold or span.bold, italic=italic, url=url))
        else:
            buf.append(char)
            i += 1
    flush()
    return spans


def _match_link(source: str, start: int) -> tuple[str, str, int] | None:
    depth, i = 0, start
    while i < len(source):
        if source[i] == "\\":
            i += 2
            continue
        if source[i] == "[":
            depth += 1
        elif source[i] == "]":
            depth -= 1
            if depth == 0:
                break
        i += 1
    if i >= len(source) or not source.startswith("](", i):
        return None
    end = source.find(")", i + 2)
    if end == -1:
        return None
    url = source[i + 2 : end]
    if not _SAFE_URL.match(url):
        return None
    return source[start + 1 : i], url, end + 1


def rich_text(source: str) -> list[dict[str, Any]]:
    """Convert inline markdown to a Notion rich-text array within the item and length limits."""
    items: list[dict[str, Any]] = []
    for span in _parse_inline(source):
        for piece in split_text(span.text):
            if not piece:
                continue
            text: dict[str, Any] = {"content": piece}
            if span.url:
                text["link"] = {"url": span.url}
            item: dict[str, Any] = {"type": "text", "text": text}
            if span.bold or span.italic or span.code:
                item["annotations"] = {"bold": span.bold, "italic": span.italic, "code": span.code}
            items.append(item)
    if len(items) > MAX_RICH_TEXT_ITEMS:
        items = items[:MAX_RICH_TEXT_ITEMS]
        last = items[-1]["text"]
        last["content"] = last["content"][: MAX_TEXT - 1] + "…"
    return items


def plain_text(items: list[dict[str, Any]]) -> str:
    """Return the plain text of a rich-text array."""
    return "".join(
        item.get("plain_text") or item.get("text", {}).get("content", "") for item in items
    )


# ---- blocks --------------------------------------------------------------------------------


@dataclass
class Segment:
    """Consecutive top-level blocks; `region` names the bot-owned parts regenerated on re-run."""

    region: str | None
    blocks: list[Block] = field(default_factory=list)


def _text_block(kind: str, source: str, **extra: Any) -> Block:
    return {"type": kind, kind: {"rich_text": rich_text(source), **extra}}


def _split_row(line: str) -> list[str]:
    cells, buf, i = [], [], 0
    body = line.strip()
    if body.startswith("|"):
        body = body[1:]
    if body.endswith("|") and not body.endswith("\\|"):
        body = body[:-1]
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body):
            buf.append(body[i : i + 2])
            i += 2
            continue
        if body[i] == "|":
            cells.append("".join(buf).strip())
            buf = []
        else:
            buf.append(body[i])
        i += 1
    cells.append("".join(buf).strip())
    return cells


def _table_block(lines: list[str]) -> Block:
    rows = [_split_row(line) for line in lines if not _SEPARATOR.match(line.strip())]
    header = len(lines) > 1 and bool(_SEPARATOR.match(lines[1].strip()))
    width = max(len(row) for row in rows)
    children = [
        {
            "type": "table_row",
            "table_row": {"cells": [rich_text(c) for c in row + [""] * (width - len(row))]},
        }
        for row in rows
    ]
    return {
        "type": "table",
        "table": {
            "table_width": width,
            "has_column_header": header,
            "has_row_header": False,
            "children": children,
        },
    }


def markdown_to_segments(markdown: str) -> list[Segment]:
    """Convert rendered markdown into top-level Notion blocks grouped by generated region."""
    segments = [Segment(None)]
    paragraph: list[str] = []
    table: list[str] = []

    def emit(block: Block) -> None:
        segments[-1].blocks.append(block)

    def flush() -> None:
        if paragraph:
            emit(_text_block("paragraph", "<br>".join(paragraph)))
            paragraph.clear()
        if table:
            emit(_table_block(table))
            table.clear()

    # Only \n ends a line: U+2028 and friends inside user text must not start new blocks.
    for raw in markdown.replace("\r\n", "\n").split("\n"):
        line = raw.strip()
        if table and not line.startswith("|"):
            flush()
        if marker := _MARKER.match(line):
            flush()
            segments.append(Segment(marker.group(2) if marker.group(1) == "begin" else None))
        elif not line or _COMMENT.match(line):
            flush()
        elif line.startswith("|"):
            if paragraph:
                flush()
            table.append(line)
        elif heading := _HEADING.match(line):
            flush()
            emit(_text_block(f"heading_{len(heading.group(1))}", heading.group(2)))
        elif todo := _TODO.match(line):
            flush()
            emit(_text_block("to_do", todo.group(2), checked=todo.group(1) != " "))
        elif bullet := _BULLET.match(line):
            flush()
            emit(_text_block("bulleted_list_item", bullet.group(1)))
        elif numbered := _NUMBERED.match(line):
            flush()
            emit(_text_block("numbered_list_item", numbered.group(1)))
        elif line.startswith(">"):
            flush()
            emit(_text_block("quote", line[1:].strip()))
        elif re.fullmatch(r"-{3,}|\*{3,}", line):
            flush()
            emit({"type": "divider", "divider": {}})
        else:
            paragraph.append(line)
    flush()
    return [segment for segment in segments if segment.blocks or segment.region]
