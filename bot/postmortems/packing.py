"""Pack Notion blocks into the fewest requests Notion's limits allow, splitting long tables.

Limits (developers.notion.com, "Request limits"): 100 children per array, 1,000 block
elements and 500KB per request. A table of more than 100 rows is split into tables of at most
100 rows that repeat the header row, so a long timeline still reads as one table per chunk.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from bot.postmortems.notion_blocks import Block

T = TypeVar("T")

MAX_CHILDREN = 100
MAX_ELEMENTS = 1000
# 500KB is the documented cap; keep a margin for the page properties and encoding differences.
MAX_PAYLOAD_BYTES = 450_000


def payload_size(value: Any) -> int:
    """Return the encoded size of a JSON value as httpx sends it."""
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())


def element_count(block: Block) -> int:
    """Count a block and all its nested children."""
    body = block.get(block["type"], {})
    return 1 + sum(element_count(child) for child in body.get("children", []))


def _table_parts(block: Block) -> tuple[Block, list[Block], Block | None]:
    table = block["table"]
    rows = table["children"]
    header = rows[0] if table.get("has_column_header") else None
    data = rows[1:] if header else rows
    shell = {"type": "table", "table": {k: v for k, v in table.items() if k != "children"}}
    return shell, data, header


def _with_rows(shell: Block, header: Block | None, rows: list[Block]) -> Block:
    table = dict(shell["table"])
    table["children"] = ([header] if header else []) + rows
    return {"type": "table", "table": table}


def pack_blocks(blocks: list[Block], *, first_overhead: int = 0) -> list[list[Block]]:
    """Pack blocks into as few requests as Notion's limits allow, splitting long tables."""
    tagged = pack_tagged([(None, block) for block in blocks], first_overhead=first_overhead)
    return [[block for _, block in batch] for batch in tagged]


def pack_tagged(
    items: list[tuple[T, Block]],
    *,
    first_overhead: int = 0,
    max_bytes: int = MAX_PAYLOAD_BYTES,
) -> list[list[tuple[T, Block]]]:
    """Pack (tag, block) pairs in order into the fewest requests; split tables keep their tag."""
    batches: list[list[tuple[T, Block]]] = [[]]
    budget = {"elements": 0, "bytes": first_overhead}

    def new_batch() -> None:
        batches.append([])
        budget["elements"], budget["bytes"] = 0, 0

    def fits(elements: int, size: int) -> bool:
        return (
            len(batches[-1]) < MAX_CHILDREN
            and budget["elements"] + elements <= MAX_ELEMENTS
            and budget["bytes"] + size + 1 <= max_bytes
        )

    def add(tag: T, block: Block, elements: int, size: int) -> None:
        batches[-1].append((tag, block))
        budget["elements"] += elements
        budget["bytes"] += size + 1

    queue = list(items)
    while queue:
        tag, block = queue.pop(0)
        elements, size = element_count(block), payload_size(block)
        if fits(elements, size) and (block["type"] != "table" or elements <= MAX_CHILDREN + 1):
            add(tag, block, elements, size)
            continue
        if block["type"] != "table":
            if not batches[-1]:
                raise ValueError("a single block exceeds Notion's request limits")
            new_batch()
            queue.insert(0, (tag, block))
            continue
        shell, rows, header = _table_parts(block)
        taken: list[Block] = []
        base = _with_rows(shell, header, [])
        used_elements, used_size = element_count(base), payload_size(base)
        cap = MAX_CHILDREN - (1 if header else 0)
        for row in rows:
            row_size = payload_size(row) + 1
            if len(taken) >= cap or not fits(used_elements + 1, used_size + row_size):
                break
            taken.append(row)
            used_elements += 1
            used_size += row_size
        if not taken:
            if not batches[-1]:
                raise ValueError("a single table row exceeds Notion's request limits")
            new_batch()
            queue.insert(0, (tag, block))
            continue
        add(tag, _with_rows(shell, header, taken), used_elements, used_size)
        rest = rows[len(taken) :]
        if rest:
            queue.insert(0, (tag, _with_rows(shell, header, rest)))
    return [batch for batch in batches if batch]


def lower_bound_requests(blocks: list[Block], *, first_overhead: int = 0) -> int:
    """Return the fewest requests any packing could use (by elements, bytes and children)."""
    elements = sum(element_count(b) for b in blocks)
    size = first_overhead + sum(payload_size(b) + 1 for b in blocks)
    by_elements = -(-elements // MAX_ELEMENTS)
    by_bytes = -(-size // MAX_PAYLOAD_BYTES)
    by_children = -(-len(blocks) // MAX_CHILDREN)
    return max(by_elements, by_bytes, by_children, 1)
