"""Pages and blocks of the fake Notion API: creation, properties, children and limits."""

from __future__ import annotations

import json
import uuid
from typing import Any

from bot.fakes.notion_store import (
    BLOCK_TYPES,
    CHILDLESS,
    MAX_ARRAY,
    MAX_ELEMENTS,
    MAX_TEXT,
    NotionStore,
    invalid,
    iso,
    key_of,
    parse_time,
    utc_now,
)


class ContentMixin(NotionStore):
    """Create pages under data sources, write properties, append and validate blocks."""

    def _new_page(
        self,
        page_id: str,
        parent: dict[str, Any],
        properties: dict[str, Any],
        *,
        shared: bool = True,
    ) -> dict[str, Any]:
        now = iso(utc_now().replace(second=0, microsecond=0))
        return {
            "id": page_id,
            "parent": parent,
            "properties": properties,
            "created_time": now,
            "last_edited_time": now,
            "in_trash": False,
            "shared": shared,
        }

    def _create_page(self, body: dict[str, Any]) -> dict[str, Any]:
        parent = body.get("parent") or {}
        page_id = str(uuid.uuid4())
        if "data_source_id" in parent:
            source = self._find(self.data_sources, parent["data_source_id"], "data_source")
            page_parent = {
                "type": "data_source_id",
                "data_source_id": source["id"],
                "database_id": source["database_id"],
            }
        elif "database_id" in parent:
            database = self._find(self.databases, parent["database_id"], "database")
            if len(database["data_sources"]) != 1:
                raise invalid("This database has several data sources; use parent.data_source_id.")
            source = self.data_sources[key_of(database["data_sources"][0]["id"])]
            page_parent = {
                "type": "data_source_id",
                "data_source_id": source["id"],
                "database_id": database["id"],
            }
        elif "page_id" in parent:
            self._find(self.pages, parent["page_id"], "page")
            source, page_parent = None, {"type": "page_id", "page_id": parent["page_id"]}
        else:
            raise invalid("body.parent should be an object with data_source_id or page_id.")
        children = body.get("children") or []
        self._validate_children(children, depth=1, path="body.children", parent_type="page")
        page = self._new_page(page_id, page_parent, {})
        page["source"] = source
        self._write_properties(page, body.get("properties") or {})
        self.pages[key_of(page_id)] = page
        self.children[key_of(page_id)] = []
        self._insert_children(page_id, children, after=None)
        return self._page_object(page)

    def _write_properties(self, page: dict[str, Any], values: dict[str, Any]) -> None:
        source = page.get("source")
        for name, value in values.items():
            if source is None:
                if name != "title":
                    raise invalid(f"{name} is not a property that exists.")
                page["properties"]["title"] = value.get("title", [])
                continue
            prop = source["properties"].get(name)
            if prop is None:
                raise invalid(f"{name} is not a property that exists.")
            kind = prop["type"]
            if not isinstance(value, dict) or kind not in value:
                raise invalid(f"{name} is expected to be {kind}.")
            page["properties"][name] = self._property_value(name, kind, value[kind], prop)

    def _property_value(self, name: str, kind: str, value: Any, prop: dict[str, Any]) -> Any:
        if value is None:
            return None
        if kind in ("title", "rich_text"):
            self._validate_rich_text(value, f"body.properties.{name}.{kind}")
            return value
        if kind == "number":
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise invalid(f"{name} is expected to be number.")
            return value
        if kind in ("select", "status"):
            options = prop[kind]["options"]
            option = next((o for o in options if o["name"] == value.get("name")), None)
            if option is None:
                option = {"id": str(uuid.uuid4()), "name": value["name"], "color": "default"}
                options.append(option)
            return option
        if kind == "people":
            if len(value) > MAX_ARRAY:
                raise invalid(f"body.properties.{name}.people.length should be ≤ `100`.")
            for person in value:
                if key_of(person.get("id", "")) not in self.users:
                    raise invalid(f"Could not find user with ID: {person.get('id')}")
            return [self.users[key_of(p["id"])] for p in value]
        if kind == "date":
            parse_time(value["start"])
            return {
                "start": value["start"],
                "end": value.get("end"),
                "time_zone": value.get("time_zone"),
            }
        if kind == "relation":
            if not isinstance(value, list) or len(value) > MAX_ARRAY:
                raise invalid(f"body.properties.{name}.relation should be an array of ≤ 100.")
            target = prop["relation"]["data_source_id"]
            for item in value:
                related = self.pages.get(key_of(str(item.get("id", ""))))
                if related is None or (related.get("source") or {}).get("id") != target:
                    raise invalid(f"Could not find page with ID: {item.get('id')}")
            return [{"id": item["id"]} for item in value]
        if kind == "url":
            if not isinstance(value, str) or len(value) > MAX_TEXT:
                raise invalid(f"body.properties.{name}.url.length should be ≤ `2000`.")
            return value
        return value

    def _page_object(self, page: dict[str, Any]) -> dict[str, Any]:
        properties: dict[str, Any] = {}
        source = page.get("source")
        schema = source["properties"] if source else {"title": {"id": "title", "type": "title"}}
        for name, prop in schema.items():
            value = page["properties"].get(name)
            if prop["type"] in ("title", "rich_text"):
                value = [self._with_plain(item) for item in value or []]
            if prop["type"] in ("people", "relation"):
                value = value or []
            properties[name] = {"id": prop["id"], "type": prop["type"], prop["type"]: value}
        return {
            "object": "page",
            "id": page["id"],
            "created_time": page["created_time"],
            "last_edited_time": page["last_edited_time"],
            "created_by": {"object": "user", "id": self.bot_id},
            "last_edited_by": {"object": "user", "id": self.bot_id},
            "parent": page["parent"],
            "archived": page["in_trash"],
            "in_trash": page["in_trash"],
            "properties": properties,
            "url": f"https://www.notion.so/{key_of(page['id'])}",
            "public_url": None,
        }

    def _append(self, parent: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        children = body.get("children")
        if not isinstance(children, list) or not children:
            raise invalid("body.children should be a non-empty array.")
        parent_type = parent.get("type", "page")
        if parent_type in CHILDLESS:
            raise invalid(f"Block type {parent_type} does not support children.")
        if parent_type == "table":
            self._table_width = int(parent["table"]["table_width"])
        self._validate_children(children, depth=1, path="body.children", parent_type=parent_type)
        after = body.get("after")
        siblings = self.children[key_of(parent["id"])]
        if after is not None and key_of(after) not in siblings:
            raise invalid(f"after block {after} is not a child of {parent['id']}.")
        created = self._insert_children(parent["id"], children, after=after)
        return {
            "object": "list",
            "results": [self._block_object(self.blocks[key_of(c)]) for c in created],
            "next_cursor": None,
            "has_more": False,
            "type": "block",
            "block": {},
        }

    def _validate_children(
        self, children: list[Any], *, depth: int, path: str, parent_type: str
    ) -> None:
        if len(children) > MAX_ARRAY:
            raise invalid(f"{path}.length should be ≤ `100`, instead was `{len(children)}`.")
        if depth == 1 and self._elements(children) > MAX_ELEMENTS:
            raise invalid(f"{path} has more than {MAX_ELEMENTS} block elements.")
        for index, block in enumerate(children):
            where = f"{path}[{index}]"
            kind = block.get("type") or next((k for k in block if k in BLOCK_TYPES), None)
            if kind not in BLOCK_TYPES or not isinstance(block.get(kind), dict):
                raise invalid(
                    f"{where} should be a block object, instead was `{json.dumps(block)[:80]}`."
                )
            if (kind == "table_row") != (parent_type == "table"):
                raise invalid(f"{where}: table_row blocks can only be children of a table.")
            body = block[kind]
            if "rich_text" in body:
                self._validate_rich_text(body["rich_text"], f"{where}.{kind}.rich_text")
            if kind == "table_row":
                width = self._table_width
                if len(body.get("cells", [])) != width:
                    raise invalid(
                        "Number of cells in table row must match "
                        "the table width of the parent table."
                    )
                for c, cell in enumerate(body["cells"]):
                    self._validate_rich_text(cell, f"{where}.table_row.cells[{c}]")
            nested = body.get("children") or []
            if kind == "table" and not nested:
                raise invalid(f"{where}.table.children should be defined: a table needs rows.")
            if nested:
                if depth >= 2:
                    raise invalid(
                        f"{where}: children can be nested at most two levels deep per request."
                    )
                if kind == "table":
                    self._table_width = int(body.get("table_width") or 0)
                self._validate_children(
                    nested, depth=depth + 1, path=f"{where}.{kind}.children", parent_type=kind
                )
            elif kind == "table":
                self._table_width = int(body.get("table_width") or 0)

    _table_width = 0

    def _elements(self, children: list[Any]) -> int:
        total = 0
        for block in children:
            kind = block.get("type") or next((k for k in block if k in BLOCK_TYPES), "")
            total += 1 + self._elements((block.get(kind) or {}).get("children") or [])
        return total

    def _insert_children(
        self, parent_id: str, children: list[dict[str, Any]], *, after: str | None
    ) -> list[str]:
        siblings = self.children.setdefault(key_of(parent_id), [])
        position = siblings.index(key_of(after)) + 1 if after else len(siblings)
        created = []
        for block in children:
            kind = block.get("type") or next(k for k in block if k in BLOCK_TYPES)
            body = {k: v for k, v in block[kind].items() if k != "children"}
            block_id = str(uuid.uuid4())
            self.blocks[key_of(block_id)] = {
                "id": block_id,
                "type": kind,
                kind: body,
                "parent": parent_id,
                "in_trash": False,
                "created_time": iso(utc_now()),
            }
            self.children[key_of(block_id)] = []
            siblings.insert(position, key_of(block_id))
            position += 1
            created.append(block_id)
            nested = block[kind].get("children") or []
            if nested:
                self._insert_children(block_id, nested, after=None)
        self._touch_page_of(parent_id)
        return created

    def _block_object(self, block: dict[str, Any]) -> dict[str, Any]:
        kind = block["type"]
        body = json.loads(json.dumps(block[kind]))
        for key in ("rich_text",):
            if key in body:
                body[key] = [self._with_plain(item) for item in body[key]]
        parent = block["parent"]
        parent_ref = (
            {"type": "block_id", "block_id": parent}
            if key_of(parent) in self.blocks
            else {"type": "page_id", "page_id": parent}
        )
        return {
            "object": "block",
            "id": block["id"],
            "parent": parent_ref,
            "type": kind,
            kind: body,
            "has_children": any(
                not self.blocks[c]["in_trash"] for c in self.children[key_of(block["id"])]
            ),
            "archived": block["in_trash"],
            "in_trash": block["in_trash"],
            "created_time": block["created_time"],
        }
