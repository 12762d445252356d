"""Write a rendered postmortem into a Notion page: the whole body once, then only bot regions."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.integrations.ports import IntegrationError, NotFound, NotionPort
from bot.postmortems.notion_blocks import Block, Segment, plain_text
from bot.postmortems.packing import pack_tagged, payload_size

Regions = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class CreatedPage:
    """A page created with its first batch of blocks."""

    page_id: str
    url: str


def _tagged(segments: list[Segment]) -> list[tuple[int, Block]]:
    return [(index, block) for index, segment in enumerate(segments) for block in segment.blocks]


def create_page(
    notion: NotionPort, data_source_id: str, properties: dict[str, Any], segments: list[Segment]
) -> tuple[CreatedPage, list[list[tuple[int, Block]]]]:
    """Create the page with as many blocks as the first request holds; return all batches."""
    overhead = payload_size(
        {"parent": {"data_source_id": data_source_id}, "properties": properties}
    )
    batches = pack_tagged(_tagged(segments), first_overhead=overhead + 64)
    first = batches[0] if batches else []
    page = notion.create_page(data_source_id, properties, [block for _, block in first])
    return CreatedPage(page.id, page.url), batches


def write_rest(notion: NotionPort, page_id: str, batches: list[list[tuple[int, Block]]]) -> None:
    """Append the remaining batches at the end of the page."""
    for batch in batches:
        notion.append_blocks(page_id, [block for _, block in batch])


def write_full_body(notion: NotionPort, page_id: str, segments: list[Segment]) -> list[int]:
    """Replace everything on the page with the rendered body; return the written blocks' tags."""
    for block_id in notion.child_block_ids(page_id):
        notion.delete_block(block_id)
    batches = pack_tagged(_tagged(segments))
    write_rest(notion, page_id, batches)
    return tags_of(batches)


def tags_of(batches: list[list[tuple[int, Block]]]) -> list[int]:
    """Return the segment index of every top-level block, in write order."""
    return [tag for batch in batches for tag, _ in batch]


def map_regions(
    notion: NotionPort, page_id: str, segments: list[Segment], tags: list[int]
) -> Regions:
    """Read the page's block ids back and record which ones belong to each bot region."""
    ids = notion.child_block_ids(page_id)
    if len(ids) != len(tags):
        raise IntegrationError("the Notion page changed while it was being written; retrying")
    regions: Regions = {}
    for index, segment in enumerate(segments):
        if not segment.region:
            continue
        positions = [i for i, tag in enumerate(tags) if tag == index]
        # An empty region sits right after the blocks of the segments before it.
        first = positions[0] if positions else sum(1 for tag in tags if tag < index)
        regions[segment.region] = {
            "anchor": ids[first - 1] if first > 0 else None,
            "blocks": [ids[i] for i in positions],
        }
    return regions


Save = Callable[[Regions, dict[str, Any] | None], None]


def digest(kind: str, text: str) -> str:
    """Return what identifies a top-level block we wrote: its type and its own text."""
    return f"{kind}:{text}"


def _digest_of(block: Block) -> str:
    kind = block.get("type") or next(iter(block))
    return digest(kind, plain_text((block.get(kind) or {}).get("rich_text") or []))


def remove_lost_append(notion: NotionPort, page_id: str, pending: dict[str, Any]) -> int:
    """Trash the blocks of an append whose answer was lost, if it reached Notion; return how many.

    ``pending`` holds the block the batch went after (None: the end of the page) and the
    digests of its blocks. They are ours only if exactly that run of blocks sits there.
    """
    wanted: list[str] = list(pending.get("digests") or [])
    if not wanted:
        return 0
    children = notion.child_blocks(page_id)
    after = pending.get("after")
    if after is None:
        candidates = children[-len(wanted) :]
    else:
        keys = [_key(child.id) for child in children]
        if _key(after) not in keys:
            return 0
        start = keys.index(_key(after)) + 1
        candidates = children[start : start + len(wanted)]
    if [digest(child.type, child.text) for child in candidates] != wanted:
        return 0
    for child in candidates:
        notion.delete_block(child.id)
    return len(candidates)


def _key(block_id: str) -> str:
    return block_id.replace("-", "").lower()


def regenerate_regions(
    notion: NotionPort,
    page_id: str,
    segments: list[Segment],
    regions: Regions,
    save: Save | None = None,
    pending: dict[str, Any] | None = None,
) -> Regions:
    """Delete the bot's old blocks in each region and write the new ones in their place.

    ``save`` is called after every step with the block ids as they now are and the append in
    flight, so a failure halfway (even one whose answer was lost) leaves a record a retry can
    continue from: it first removes what a lost append wrote, then rewrites the regions.
    """
    current: Regions = {name: dict(value) for name, value in regions.items()}
    keep = save or (lambda _regions, _pending: None)
    if pending:
        remove_lost_append(notion, page_id, pending)
        keep(current, None)
    order = [segment.region for segment in segments if segment.region]
    blocks_of = {segment.region: segment.blocks for segment in segments if segment.region}
    for position, name in enumerate(order):
        old = current.get(name)
        if old is None:
            continue  # the team's template gained a region after the page was written
        anchor = old.get("anchor")
        for block_id in old.get("blocks", []):
            notion.delete_block(block_id)
        # Later regions anchored where this one ends follow whatever now ends it.
        end = old["blocks"][-1] if old.get("blocks") else anchor
        followers = [
            later
            for later in order[position + 1 :]
            if later in current and current[later].get("anchor") == end
        ]
        region: dict[str, Any] = {"anchor": anchor, "blocks": []}
        current[name] = region
        for later in followers:
            current[later]["anchor"] = anchor
        keep(current, None)
        after = anchor
        for batch in pack_tagged([(0, block) for block in blocks_of[name]]):
            children = [block for _, block in batch]
            created, after = _insert_after(notion, page_id, children, after, current, keep)
            region["blocks"] = [*region["blocks"], *created]
            for later in followers:
                current[later]["anchor"] = after
            keep(current, None)
    return current


def _insert_after(
    notion: NotionPort,
    page_id: str,
    children: list[Block],
    anchor: str | None,
    current: Regions,
    keep: Save,
) -> tuple[list[str], str | None]:
    """Append one batch after the anchor, recording it first; return its ids and the new anchor."""
    digests = [_digest_of(block) for block in children]
    keep(current, {"after": anchor, "digests": digests})
    try:
        created = notion.append_blocks(page_id, children, after=anchor)
    except (NotFound, IntegrationError) as exc:
        if anchor is None or "after" not in str(exc) and not isinstance(exc, NotFound):
            raise
        # Someone deleted the block we anchored on: keep the content, at the end.
        keep(current, {"after": None, "digests": digests})
        created = notion.append_blocks(page_id, children)
    return created, (created[-1] if created else anchor)


def describe(regions: Regions) -> str:
    """Return a short JSON summary of regions (for logs)."""
    return json.dumps({name: len(r.get("blocks", [])) for name, r in regions.items()})
