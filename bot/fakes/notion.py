"""A local fake of the Notion API, version 2025-09-03 (databases with data sources).

It follows developers.notion.com: bearer auth, the Notion-Version header, error bodies
(`{"object": "error", "status", "code", "message"}`), data-source queries with filters, sorts
and cursor pagination, pages under `parent.data_source_id`, block children, and the request
limits (2,000 characters per rich-text item, 100 items per array, 100 children per array,
1,000 block elements and 500KB per request, two levels of nesting, 3 requests/s on average).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import datetime
from typing import Any

from bot.fakes.notion_query import QueryMixin
from bot.fakes.notion_store import (
    API_VERSION,
    MAX_BYTES,
    NotionFailure,
    invalid,
    iso,
    key_of,
    utc_now,
)
from bot.fakes.server import FakeServer, Request, Response


class FakeNotion(QueryMixin, FakeServer):
    """Notion's API in memory: seed it, point notion_client at base_url, inspect what happened."""

    name = "notion"

    def __init__(
        self,
        *,
        token: str = "secret_fake_notion",
        latency: float = 0.0,
        requests_per_second: float | None = None,
        burst: int = 3,
    ) -> None:
        super().__init__(latency=latency)
        self.tokens = {token}
        self.token = token
        self.requests_per_second = requests_per_second
        self.burst = burst
        self._bucket = float(burst)
        self._bucket_at = time.monotonic()
        self.rate_limited_count = 0
        self.user_emails_visible = True
        self.databases: dict[str, dict[str, Any]] = {}
        self.data_sources: dict[str, dict[str, Any]] = {}
        self.pages: dict[str, dict[str, Any]] = {}
        self.blocks: dict[str, dict[str, Any]] = {}
        self.children: dict[str, list[str]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self._state = threading.RLock()
        self.bot_id = self.add_user("sevbot", bot=True)

    # ---- seeding helpers -------------------------------------------------------------
    def add_user(self, name: str, email: str | None = None, *, bot: bool = False) -> str:
        """Add a workspace member (or bot) and return its id."""
        user_id = str(uuid.uuid4())
        user: dict[str, Any] = {"object": "user", "id": user_id, "name": name, "avatar_url": None}
        if bot:
            user.update(type="bot", bot={})
        else:
            user.update(type="person", person={"email": email} if email else {})
        self.users[key_of(user_id)] = user
        return user_id

    def add_page(self, title: str = "Postmortems", *, shared: bool = True) -> str:
        """Add a workspace page (a parent for databases) and return its id."""
        page_id = str(uuid.uuid4())
        with self._state:
            self.pages[key_of(page_id)] = self._new_page(
                page_id, {"type": "workspace", "workspace": True}, {}, shared=shared
            )
            self.pages[key_of(page_id)]["title"] = title
            self.children[key_of(page_id)] = []
        return page_id

    def add_database(
        self,
        properties: dict[str, dict[str, Any]],
        *,
        title: str = "Postmortems",
        shared: bool = True,
    ) -> str:
        """Add a database with one data source of the given property schema; return its id."""
        parent = self.add_page(shared=shared)
        database = self._create_database(
            parent, [{"type": "text", "text": {"content": title}}], properties
        )
        database["shared"] = shared
        return str(database["id"])

    def data_source_of(self, database_id: str) -> str:
        """Return the id of a database's (first) data source."""
        return str(self.databases[key_of(database_id)]["data_sources"][0]["id"])

    def edit_page(
        self, page_id: str, properties: dict[str, Any], *, at: datetime | None = None
    ) -> None:
        """Change page properties as a person in Notion would, moving last_edited_time."""
        with self._state:
            page = self.pages[key_of(page_id)]
            self._write_properties(page, properties)
            page["last_edited_time"] = iso((at or utc_now()).replace(second=0, microsecond=0))

    def page_blocks(self, page_id: str, *, deep: bool = True) -> list[dict[str, Any]]:
        """Return a page's live blocks in order (nested ones right after their parent)."""
        out: list[dict[str, Any]] = []

        def walk(parent: str) -> None:
            for child in self.children.get(key_of(parent), []):
                block = self.blocks[child]
                if not block["in_trash"]:
                    out.append(block)
                    if deep:
                        walk(block["id"])

        with self._state:
            walk(page_id)
        return out

    def trash_page(self, page_id: str) -> None:
        """Move a page to the trash, as a person in Notion would."""
        with self._state:
            page = self.pages[key_of(page_id)]
            page["in_trash"] = True
            self._touch(page)

    def _trashed(self, object_id: str) -> bool:
        """Say whether a page or block, or one of its ancestors, is in the trash."""
        while key_of(object_id) in self.blocks:
            block = self.blocks[key_of(object_id)]
            if block["in_trash"]:
                return True
            object_id = block["parent"]
        page = self.pages.get(key_of(object_id))
        return bool(page and page["in_trash"])

    def count(self, method: str | None = None, path_contains: str = "") -> int:
        """Count recorded requests by method and path fragment."""
        return sum(1 for r in self.calls(path_contains) if method is None or r.method == method)

    def rate_limited_body(self) -> Any:
        """Return Notion's 429 body."""
        return self._error_body(NotionFailure(429, "rate_limited", "You have been rate limited."))

    def fail(self, path_contains: str, status: int = 500, times: int = 1) -> None:
        """Answer the next matching requests with a Notion-shaped server error."""
        self.inject(lambda r: path_contains in r.path, lambda r: self.error_response(status), times)

    def error_response(self, status: int) -> Response:
        """Return Notion's error answer for a 5xx (codes from its status-codes reference)."""
        code = {
            500: "internal_server_error",
            502: "bad_gateway",
            503: "service_unavailable",
            504: "gateway_timeout",
        }.get(status, "internal_server_error")
        return Response(status, self._error_body(NotionFailure(status, code, "Fake outage.")))

    # ---- dispatch ------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        """Answer one API request."""
        try:
            self._check_rate()
            self._check_headers(request)
            if len(request.body) > MAX_BYTES:
                raise invalid(f"Request body too large: {len(request.body)} bytes (limit 500KB).")
            body = request.json() if request.body else {}
            with self._state:
                return Response(200, self._route(request, body or {}))
        except NotionFailure as failure:
            headers = {"Retry-After": "1"} if failure.status == 429 else {}
            return Response(failure.status, self._error_body(failure), headers)
        except json.JSONDecodeError:
            return Response(400, self._error_body(NotionFailure(400, "invalid_json", "Bad JSON.")))

    def _error_body(self, failure: NotionFailure) -> dict[str, Any]:
        return {
            "object": "error",
            "status": failure.status,
            "code": failure.code,
            "message": failure.message,
            "request_id": str(uuid.uuid4()),
        }

    def _check_rate(self) -> None:
        if not self.requests_per_second:
            return
        with self._state:
            now = time.monotonic()
            refill = (now - self._bucket_at) * self.requests_per_second
            self._bucket = min(float(self.burst), self._bucket + refill)
            self._bucket_at = now
            if self._bucket < 1:
                self.rate_limited_count += 1
                raise NotionFailure(429, "rate_limited", "You have been rate limited.")
            self._bucket -= 1

    def _check_headers(self, request: Request) -> None:
        version = request.headers.get("notion-version")
        if not version:
            raise NotionFailure(
                400,
                "missing_version",
                "Notion-Version header failed validation: it should be defined.",
            )
        if version != API_VERSION:
            raise invalid(f"This fake speaks Notion-Version {API_VERSION}, not {version}.")
        auth = request.headers.get("authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
            raise NotionFailure(401, "unauthorized", "API token is invalid.")

    def _route(self, request: Request, body: dict[str, Any]) -> Any:
        parts = [p for p in request.path.split("/") if p]
        if parts[:1] != ["v1"] or len(parts) < 2:
            raise NotionFailure(400, "invalid_request_url", "Invalid request URL.")
        route, method, rest = parts[1], request.method, parts[2:]
        query = {k: v[0] for k, v in request.query.items()}
        if route == "users":
            if rest == ["me"]:
                return self.users[key_of(self.bot_id)]
            return self._paginate(self._visible_users(), query, "user")
        if route == "databases" and method == "POST" and not rest:
            return self._create_database_request(body)
        if route == "databases" and method == "GET" and len(rest) == 1:
            return self._public(self._find(self.databases, rest[0], "database"))
        if route == "data_sources" and len(rest) == 1 and method == "GET":
            return self._data_source_object(self._find(self.data_sources, rest[0], "data_source"))
        if route == "data_sources" and rest[1:] == ["query"] and method == "POST":
            return self._query(self._find(self.data_sources, rest[0], "data_source"), body)
        if route == "pages" and method == "POST" and not rest:
            return self._create_page(body)
        if route == "pages" and len(rest) == 1:
            page = self._find(self.pages, rest[0], "page")
            if method == "PATCH":
                if "in_trash" in body or "archived" in body:
                    page["in_trash"] = bool(body.get("in_trash", body.get("archived")))
                if page["in_trash"] and body.get("properties"):
                    raise invalid(
                        "Can't update a page that is archived. "
                        "You must unarchive the page before updating."
                    )
                self._write_properties(page, body.get("properties") or {})
                self._touch(page)
            return self._page_object(page)
        if route == "blocks" and rest[1:] == ["children"]:
            parent = self._find_parent(rest[0])
            if method == "PATCH":
                if self._trashed(parent["id"]):
                    raise invalid(
                        "Can't edit block that is archived. "
                        "You must unarchive the block before editing."
                    )
                return self._append(parent, body)
            live = [self.blocks[c] for c in self.children[key_of(parent["id"])]]
            return self._paginate(
                [self._block_object(b) for b in live if not b["in_trash"]], query, "block"
            )
        if route == "blocks" and len(rest) == 1:
            block = self._find(self.blocks, rest[0], "block")
            if method == "DELETE":
                if block["in_trash"]:
                    raise invalid(
                        "Can't edit block that is archived. "
                        "You must unarchive the block before editing."
                    )
                block["in_trash"] = True
            return self._block_object(block)
        raise NotionFailure(
            400, "invalid_request_url", f"Invalid request URL: {method} {request.path}"
        )
