"""Write a rendered postmortem into a Notion page: the whole body once, then only bot regions."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.integrations.ports import IntegrationError, NotFound
from bot.postmortems.blocks import Block, Segment
from bot.postmortems.packing import pack_tagged, payload_size
from bot.postmortems.ports import NotionPort

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


def regenerate_regions(
    notion: NotionPort,
    page_id: str,
    segments: list[Segment],
    regions: Regions,
    save: Callable[[Regions], None] | None = None,
) -> Regions:
    """Delete the bot's old blocks in each region and write the new ones in their place.

    ``save`` is called after every region, with the block ids as they now are, so a failure
    halfway leaves a record a retry can continue from (instead of writing sections twice).
    """
    current: Regions = {name: dict(value) for name, value in regions.items()}
    for segment in segments:
        if not segment.region:
            continue
        old = current.get(segment.region)
        if old is None:
            continue  # the team's template gained a region after the page was written
        anchor = old.get("anchor")
        for block_id in old.get("blocks", []):
            notion.delete_block(block_id)
        current[segment.region] = {"anchor": anchor, "blocks": []}
        new_ids = _insert_after(notion, page_id, segment.blocks, anchor)
        current[segment.region] = {"anchor": anchor, "blocks": new_ids}
        if old.get("blocks"):  # regions anchored on our old last block follow the new one
            last_old, last_new = old["blocks"][-1], (new_ids[-1] if new_ids else anchor)
            for other in current.values():
                if other.get("anchor") == last_old:
                    other["anchor"] = last_new
        if save is not None:
            save(current)
    return current


def _insert_after(
    notion: NotionPort, page_id: str, blocks: list[Block], anchor: str | None
) -> list[str]:
    ids: list[str] = []
    for batch in pack_tagged([(0, block) for block in blocks]):
        children = [block for _, block in batch]
        try:
            created = notion.append_blocks(page_id, children, after=anchor)
        except (NotFound, IntegrationError) as exc:
            if anchor is None or "after" not in str(exc) and not isinstance(exc, NotFound):
                raise
            # Someone deleted the block we anchored on: keep the content, at the end.
            created = notion.append_blocks(page_id, children)
        ids.extend(created)
        anchor = created[-1] if created else anchor
    return ids


def describe(regions: Regions) -> str:
    """Return a short JSON summary of regions (for logs)."""
    return json.dumps({name: len(r.get("blocks", [])) for name, r in regions.items()})
