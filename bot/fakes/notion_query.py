"""Databases, data sources and data-source queries of the fake Notion API."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from bot.fakes.notion_content import ContentMixin
from bot.fakes.notion_store import (
    PROPERTY_TYPES,
    invalid,
    iso,
    key_of,
    parse_time,
    utc_now,
)


class QueryMixin(ContentMixin):
    """Create and describe databases, and answer data-source queries (filters, sorts, pages)."""

    def _create_database_request(self, body: dict[str, Any]) -> dict[str, Any]:
        parent = body.get("parent") or {}
        if parent.get("type", "page_id") != "page_id" or not parent.get("page_id"):
            raise invalid("body.parent.page_id should be defined.")
        self._find(self.pages, parent["page_id"], "page")
        initial = body.get("initial_data_source") or {}
        return self._public(
            self._create_database(
                parent["page_id"], body.get("title") or [], initial.get("properties") or {}
            )
        )

    def _create_database(
        self, parent_page: str, title: list[dict[str, Any]], properties: dict[str, dict[str, Any]]
    ) -> dict[str, Any]:
        self._validate_rich_text(title, "body.title")
        schema: dict[str, dict[str, Any]] = {}
        for name, config in properties.items():
            kinds = [k for k in config if k in PROPERTY_TYPES]
            if len(kinds) != 1:
                raise invalid(f"Property {name!r} needs exactly one type.")
            kind = kinds[0]
            body = dict(config[kind] or {})
            if kind in ("select", "multi_select", "status"):
                body["options"] = [
                    {"id": str(uuid.uuid4()), "name": o["name"], "color": o.get("color", "default")}
                    for o in body.get("options", [])
                ]
            if kind == "relation":
                related = self.data_sources.get(key_of(str(body.get("data_source_id", ""))))
                if related is None:
                    raise invalid(f"Relation {name!r} needs an existing data_source_id.")
                body = {
                    "data_source_id": related["id"],
                    "database_id": related["database_id"],
                    "type": body.get("type", "single_property"),
                    "single_property": {},
                }
            schema[name] = {"id": uuid.uuid4().hex[:4], "name": name, "type": kind, kind: body}
        if sum(1 for p in schema.values() if p["type"] == "title") != 1:
            raise invalid("A database needs exactly one title property.")
        database_id, source_id = str(uuid.uuid4()), str(uuid.uuid4())
        now = iso(utc_now())
        database = {
            "object": "database",
            "id": database_id,
            "title": title,
            "parent": {"type": "page_id", "page_id": parent_page},
            "is_inline": False,
            "in_trash": False,
            "created_time": now,
            "last_edited_time": now,
            "data_sources": [{"id": source_id, "name": self._plain(title)}],
            "url": f"https://www.notion.so/{key_of(database_id)}",
        }
        self.databases[key_of(database_id)] = database
        self.data_sources[key_of(source_id)] = {
            "id": source_id,
            "database_id": database_id,
            "name": self._plain(title),
            "properties": schema,
        }
        return database

    def _data_source_object(self, source: dict[str, Any]) -> dict[str, Any]:
        return {
            "object": "data_source",
            "id": source["id"],
            "title": [
                {"type": "text", "text": {"content": source["name"]}, "plain_text": source["name"]}
            ],
            "parent": {"type": "database_id", "database_id": source["database_id"]},
            "database_parent": {"type": "page_id"},
            "properties": source["properties"],
        }

    def _query(self, source: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        pages = list(self.pages_in(source["id"]))
        if body.get("filter"):
            pages = [p for p in pages if self._matches(p, body["filter"], source)]
        for sort in reversed(body.get("sorts") or []):
            reverse = sort.get("direction") == "descending"
            if "timestamp" in sort:
                stamp = str(sort["timestamp"])
                pages.sort(key=lambda p: str(p[stamp]), reverse=reverse)
            else:
                if sort.get("property") not in source["properties"]:
                    raise invalid(
                        f"Could not find sort property with name or id: {sort.get('property')}"
                    )
                name = str(sort["property"])
                pages.sort(key=lambda p: self._sort_key(p, name), reverse=reverse)
        return self._paginate([self._page_object(p) for p in pages], body, "page")

    def _sort_key(self, page: dict[str, Any], name: str) -> Any:
        value = page["properties"].get(name)
        return (value is None, json.dumps(value, sort_keys=True) if value is not None else "")

    def _matches(self, page: dict[str, Any], flt: dict[str, Any], source: dict[str, Any]) -> bool:
        if "and" in flt:
            return all(self._matches(page, f, source) for f in flt["and"])
        if "or" in flt:
            return any(self._matches(page, f, source) for f in flt["or"])
        if "timestamp" in flt:
            stamp = flt["timestamp"]
            return self._compare_date(parse_time(page[stamp]), flt[stamp])
        name = flt.get("property")
        prop = source["properties"].get(name or "")
        if prop is None:
            raise invalid(f"Could not find property with name or id: {name}")
        kind = prop["type"]
        if kind not in flt:
            raise invalid(f"filter for {name} should use the `{kind}` condition.")
        condition, value = page["properties"].get(name), flt[kind]
        if "is_empty" in value:
            return condition in (None, [], "")
        if "is_not_empty" in value:
            return condition not in (None, [], "")
        if kind == "number":
            return self._compare_number(condition, value)
        if kind in ("select", "status"):
            return (condition or {}).get("name") == value.get("equals")
        if kind in ("title", "rich_text", "url"):
            text = self._plain(condition) if isinstance(condition, list) else (condition or "")
            return self._compare_text(text, value)
        if kind == "date":
            return condition is not None and self._compare_date(
                parse_time(condition["start"]), value
            )
        raise invalid(f"Filtering on {kind} is not supported by this fake.")

    def _compare_text(self, text: str, condition: dict[str, Any]) -> bool:
        ops = {
            "equals": lambda v: text == v,
            "does_not_equal": lambda v: text != v,
            "contains": lambda v: v in text,
            "does_not_contain": lambda v: v not in text,
            "starts_with": lambda v: text.startswith(v),
            "ends_with": lambda v: text.endswith(v),
        }
        unknown = [op for op in condition if op not in ops]
        if unknown or not condition:
            raise invalid(f"Unsupported text condition {unknown or condition}.")
        return all(ops[op](str(v)) for op, v in condition.items())

    def _compare_number(self, actual: Any, condition: dict[str, Any]) -> bool:
        if actual is None:
            return False
        ops = {
            "equals": actual == condition.get("equals"),
            "does_not_equal": actual != condition.get("does_not_equal"),
            "greater_than": "greater_than" in condition and actual > condition["greater_than"],
            "less_than": "less_than" in condition and actual < condition["less_than"],
        }
        return all(ops[op] for op in condition if op in ops)

    def _compare_date(self, actual: datetime, condition: dict[str, Any]) -> bool:
        for op, raw in condition.items():
            bound = parse_time(raw)
            ok = {
                "equals": actual == bound,
                "after": actual > bound,
                "on_or_after": actual >= bound,
                "before": actual < bound,
                "on_or_before": actual <= bound,
            }.get(op)
            if ok is None:
                raise invalid(f"Unsupported date condition {op}.")
            if not ok:
                return False
        return True
