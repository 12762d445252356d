"""Notion adapter over notion-client 3.x (API 2025-09-03): the only module importing notion_client.

It keeps to Notion's average of 3 requests per second (shared by every process through the
database when built with an engine), waits out 429s for Retry-After,
retries 5xx answers and timeouts with backoff when a retry cannot duplicate anything, and
turns every vendor error into bot.integrations.ports exceptions whose message names the fix.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast

import httpx
from notion_client import Client
from notion_client.errors import APIResponseError, HTTPResponseError, RequestTimeoutError
from sqlalchemy import Engine

from bot.integrations.notion_limit import (
    NotionRateLimiter,
    RequestLimiter,
    SharedNotionRateLimiter,
)
from bot.integrations.ports import (
    AuthError,
    ChildBlock,
    IntegrationError,
    NotConfigured,
    NotFound,
    NotionPage,
    Trashed,
    Unavailable,
)
from bot.observability.vendor import vendor_call
from bot.settings import Settings

log = logging.getLogger(__name__)

SHARE_HINT = (
    "check the id, and share the page or database with the integration (open it in Notion, "
    "••• → Connections → add the integration)"
)


def notion_method(fn: Callable[..., Any]) -> str:
    """Name a client call for metrics: data_sources.query, pages.update..."""
    owner = type(getattr(fn, "__self__", None)).__name__.removesuffix("Endpoint")
    owner = re.sub(r"(?<!^)([A-Z])", r"_\1", owner).lower()
    return f"{owner}.{getattr(fn, '__name__', 'call')}"


def notion_outcome(exc: BaseException) -> str:
    """Classify a failed call for the vendor metrics."""
    if isinstance(exc, RequestTimeoutError | httpx.TimeoutException):
        return "timeout"
    if isinstance(exc, HTTPResponseError) and exc.status == 429:
        return "ratelimited"
    return "error"


def _parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def simplify_property(prop: dict[str, Any]) -> Any:
    """Return a page property value as a plain Python value."""
    kind = prop.get("type", "")
    value = prop.get(kind)
    if kind in ("title", "rich_text"):
        return "".join(item.get("plain_text", "") for item in value or [])
    if kind in ("select", "status"):
        return value.get("name") if value else None
    if kind == "people":
        return [person.get("id") for person in value or []]
    if kind == "date":
        return value.get("start") if value else None
    return value


def _page(raw: dict[str, Any]) -> NotionPage:
    return NotionPage(
        id=raw["id"],
        url=raw.get("url") or f"https://www.notion.so/{raw['id'].replace('-', '')}",
        last_edited_time=_parse_time(raw["last_edited_time"]),
        properties={
            name: simplify_property(p) for name, p in (raw.get("properties") or {}).items()
        },
    )


def _child(raw: dict[str, Any]) -> ChildBlock:
    kind = str(raw.get("type", ""))
    items = (raw.get(kind) or {}).get("rich_text") or []
    return ChildBlock(id=raw["id"], type=kind, text="".join(i.get("plain_text", "") for i in items))


class NotionAdapter:
    """NotionPort over the official client, with client-side rate limiting and retries."""

    def __init__(
        self,
        token: str,
        *,
        base_url: str = "https://api.notion.com",
        timeout: float = 30.0,
        requests_per_second: float = 3.0,
        limiter: RequestLimiter | None = None,
        max_attempts: int = 5,
        max_wait: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not token:
            raise NotConfigured("Notion is not configured: set NOTION_TOKEN")
        self._client = Client(
            auth=token,
            base_url=base_url.rstrip("/"),
            timeout_ms=int(timeout * 1000),
            retry=False,
            logger=logging.getLogger("notion_client"),
            log_level=logging.WARNING,
        )
        self.limiter = limiter or NotionRateLimiter(requests_per_second, sleep=sleep)
        self.max_attempts = max_attempts
        self.max_wait = max_wait
        self._sleep = sleep
        self._data_sources: dict[str, str] = {}
        self._emails: dict[str, str] | None = None
        self._emails_at = 0.0
        self.request_count = 0

    @classmethod
    def from_settings(
        cls, settings: Settings, *, engine: Engine | None = None
    ) -> NotionAdapter | None:
        """Build the adapter from settings, or return None when NOTION_TOKEN is unset.

        With an engine, the 3 requests/s are shared by every process using that database.
        """
        if settings.notion_token is None or not settings.notion_token.get_secret_value():
            return None
        limiter = SharedNotionRateLimiter(engine) if engine is not None else None
        return cls(
            settings.notion_token.get_secret_value(),
            base_url=settings.notion_api_url,
            timeout=settings.notion_timeout.total_seconds(),
            limiter=limiter,
        )

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()

    # ---- the call wrapper ------------------------------------------------------------------
    def _backoff(self, attempt: int) -> float:
        return min(self.max_wait, 0.5 * 2**attempt) * (0.5 + random.random() / 2)

    def _call(
        self, what: str, fn: Callable[..., Any], /, *args: Any, idempotent: bool, **kw: Any
    ) -> dict[str, Any]:
        last = "no attempt made"
        for attempt in range(self.max_attempts):
            self.limiter.acquire()
            self.request_count += 1
            try:
                with vendor_call("notion", notion_method(fn), notion_outcome):
                    return cast(dict[str, Any], fn(*args, **kw))
            except APIResponseError as exc:
                if exc.status == 429:
                    wait = min(
                        self._retry_after(exc.headers) or self._backoff(attempt), self.max_wait
                    )
                    last = f"rate limited by Notion (waited {wait:.0f}s)"
                    self.limiter.pause(wait)
                    continue
                if exc.status >= 500 or exc.status == 409:
                    last = f"Notion answered {exc.status} ({exc.code})"
                    if not idempotent:
                        raise Unavailable(f"{what} failed: {last}") from exc
                    self._sleep(self._backoff(attempt))
                    continue
                raise self._translate(exc, what) from exc
            except HTTPResponseError as exc:  # an answer without a Notion error body
                last = f"Notion answered HTTP {exc.status}"
                if exc.status < 500 and exc.status != 429:
                    raise IntegrationError(f"{what} failed: {last}") from exc
                if not idempotent and exc.status != 429:
                    raise Unavailable(f"{what} failed: {last}") from exc
                self._sleep(self._backoff(attempt))
            except (RequestTimeoutError, httpx.TimeoutException) as exc:
                last = "Notion timed out"
                if not idempotent:
                    raise Unavailable(f"{what} failed: {last}") from exc
                self._sleep(self._backoff(attempt))
            except httpx.TransportError as exc:
                # Nothing reached Notion when the connection failed, so a retry is safe.
                last = f"cannot reach Notion ({exc.__class__.__name__})"
                self._sleep(self._backoff(attempt))
        raise Unavailable(f"{what} failed after {self.max_attempts} attempts: {last}")

    @staticmethod
    def _retry_after(headers: httpx.Headers) -> float | None:
        try:
            return float(headers.get("retry-after", ""))
        except ValueError:
            return None

    @staticmethod
    def _translate(exc: APIResponseError, what: str) -> IntegrationError:
        code, message = str(getattr(exc.code, "value", exc.code)), str(exc)
        if exc.status == 401:
            return AuthError(
                "Notion refused NOTION_TOKEN (401 unauthorized): set it to the integration's secret"
            )
        if exc.status == 403:
            return AuthError(
                f"{what} failed: the Notion integration lacks a capability; enable Read, "
                "Update and Insert content and Read user information including email addresses"
            )
        if exc.status == 404:
            return NotFound(f"Notion cannot find {what}: {SHARE_HINT}")
        schema_hints = (
            "is not a property that exists",
            "is expected to be",
            "Could not find property",
        )
        if code == "validation_error" and any(h in message for h in schema_hints):
            return IntegrationError(
                f"The Notion postmortem database does not match sevbot's schema ({message}); "
                "run `sevbot notion-setup --database <id>` to list what is missing, then add "
                "or fix the property"
            )
        return IntegrationError(f"Notion rejected {what}: {message}")

    def whoami(self) -> dict[str, Any]:
        """Return the integration's bot user (users/me): a cheap check that the token works."""
        return self._call("the integration (NOTION_TOKEN)", self._client.users.me, idempotent=True)

    # ---- NotionPort ------------------------------------------------------------------------
    def data_source_id(self, database_id: str) -> str:
        """Return the data source of a database (cached)."""
        if database_id not in self._data_sources:
            what = f"the postmortem database {database_id} (NOTION_POSTMORTEM_DATABASE_ID)"
            database = self._call(
                what, self._client.databases.retrieve, database_id, idempotent=True
            )
            sources = database.get("data_sources") or []
            if not sources:
                raise NotFound(f"{what} has no data source; recreate it with `sevbot notion-setup`")
            self._data_sources[database_id] = sources[0]["id"]
        return self._data_sources[database_id]

    def schema(self, data_source_id: str) -> dict[str, str]:
        """Return the property names and types of a data source."""
        source = self._call(
            f"data source {data_source_id}",
            self._client.data_sources.retrieve,
            data_source_id,
            idempotent=True,
        )
        return {name: prop["type"] for name, prop in (source.get("properties") or {}).items()}

    def find_page(
        self, data_source_id: str, *, number_property: str, number: int
    ) -> NotionPage | None:
        """Return the page whose number property equals `number`, if any."""
        result = self._call(
            "the postmortem database",
            self._client.data_sources.query,
            data_source_id,
            filter={"property": number_property, "number": {"equals": number}},
            page_size=1,
            idempotent=True,
        )
        pages = result.get("results") or []
        return _page(pages[0]) if pages else None

    def find_page_by_title(
        self, data_source_id: str, *, title_property: str, starts_with: str
    ) -> NotionPage | None:
        """Return a page whose title starts with `starts_with`, if any."""
        result = self._call(
            "the follow-ups database",
            self._client.data_sources.query,
            data_source_id,
            filter={"property": title_property, "title": {"starts_with": starts_with}},
            page_size=1,
            idempotent=True,
        )
        pages = result.get("results") or []
        return _page(pages[0]) if pages else None

    def create_page(
        self, data_source_id: str, properties: dict[str, Any], children: list[dict[str, Any]]
    ) -> NotionPage:
        """Create a page in a data source with its first blocks (never retried blindly)."""
        raw = self._call(
            "the postmortem page",
            self._client.pages.create,
            parent={"type": "data_source_id", "data_source_id": data_source_id},
            properties=properties,
            children=children,
            idempotent=False,
        )
        return _page(raw)

    def update_page(self, page_id: str, properties: dict[str, Any]) -> NotionPage:
        """Update some properties of a page (a PATCH of the same values is safe to repeat).

        Raise Trashed when the page (or an ancestor) is in Notion's trash.
        """
        try:
            raw = self._call(
                f"page {page_id}",
                self._client.pages.update,
                page_id,
                properties=properties,
                idempotent=True,
            )
        except IntegrationError as exc:
            if "archived" in str(exc) or "in trash" in str(exc).lower():
                raise Trashed(f"the Notion page {page_id} is in the trash") from exc
            raise
        if raw.get("in_trash") or raw.get("archived"):
            raise Trashed(f"the Notion page {page_id} is in the trash")
        return _page(raw)

    def append_blocks(
        self, parent_id: str, children: list[dict[str, Any]], *, after: str | None = None
    ) -> list[str]:
        """Append blocks (after a sibling when given); return the new top-level block ids."""
        extra = {"after": after} if after else {}
        raw = self._call(
            f"block {parent_id}",
            self._client.blocks.children.append,
            parent_id,
            children=children,
            idempotent=False,
            **extra,
        )
        return [block["id"] for block in raw.get("results") or []]

    def delete_block(self, block_id: str) -> None:
        """Move a block (and its children) to the trash; a missing or trashed block is fine."""
        try:
            self._call(f"block {block_id}", self._client.blocks.delete, block_id, idempotent=True)
        except NotFound:
            return
        except IntegrationError as exc:
            if "archived" not in str(exc):
                raise

    def child_block_ids(self, parent_id: str) -> list[str]:
        """Return the ids of a page's or block's live top-level children."""
        return [block.id for block in self.child_blocks(parent_id)]

    def child_blocks(self, parent_id: str) -> list[ChildBlock]:
        """Return a page's or block's live top-level children with their type and text."""
        blocks: list[ChildBlock] = []
        cursor: str | None = None
        while True:
            extra = {"start_cursor": cursor} if cursor else {}
            raw = self._call(
                f"block {parent_id}",
                self._client.blocks.children.list,
                parent_id,
                page_size=100,
                idempotent=True,
                **extra,
            )
            blocks.extend(_child(block) for block in raw.get("results") or [])
            if not raw.get("has_more"):
                return blocks
            cursor = raw.get("next_cursor")

    def pages_edited_since(self, data_source_id: str, since: datetime) -> list[NotionPage]:
        """Return the pages edited at or after `since`, oldest edit first."""
        pages: list[NotionPage] = []
        cursor: str | None = None
        stamp = since.astimezone(UTC).isoformat().replace("+00:00", "Z")
        while True:
            extra = {"start_cursor": cursor} if cursor else {}
            raw = self._call(
                "the postmortem database",
                self._client.data_sources.query,
                data_source_id,
                filter={
                    "timestamp": "last_edited_time",
                    "last_edited_time": {"on_or_after": stamp},
                },
                sorts=[{"timestamp": "last_edited_time", "direction": "ascending"}],
                page_size=100,
                idempotent=True,
                **extra,
            )
            pages.extend(_page(p) for p in raw.get("results") or [] if p.get("object") == "page")
            if not raw.get("has_more"):
                return pages
            cursor = raw.get("next_cursor")

    def user_id_by_email(self, email: str) -> str | None:
        """Return the Notion person with this email (the user list is cached for 10 minutes)."""
        if self._emails is None or time.monotonic() - self._emails_at > 600:
            emails: dict[str, str] = {}
            cursor: str | None = None
            while True:
                extra = {"start_cursor": cursor} if cursor else {}
                raw = self._call(
                    "the workspace users",
                    self._client.users.list,
                    page_size=100,
                    idempotent=True,
                    **extra,
                )
                for user in raw.get("results") or []:
                    address = (user.get("person") or {}).get("email")
                    if user.get("type") == "person" and address:
                        emails[address.lower()] = user["id"]
                if not raw.get("has_more"):
                    break
                cursor = raw.get("next_cursor")
            self._emails, self._emails_at = emails, time.monotonic()
        return self._emails.get(email.lower())

    def email_of_user(self, user_id: str) -> str | None:
        """Return the email of a Notion person (from the same cached user list), if visible."""
        self.user_id_by_email("")  # fills or refreshes the cache
        wanted = user_id.replace("-", "")
        for address, found in (self._emails or {}).items():
            if found.replace("-", "") == wanted:
                return address
        return None

    def create_database(
        self, parent_page_id: str, title: str, properties: dict[str, dict[str, Any]]
    ) -> str:
        """Create a database under a page with one data source of this schema; return its id."""
        raw = self._call(
            f"the parent page {parent_page_id}",
            self._client.databases.create,
            parent={"type": "page_id", "page_id": parent_page_id},
            title=[{"type": "text", "text": {"content": title}}],
            initial_data_source={"properties": properties},
            idempotent=False,
        )
        sources = raw.get("data_sources") or []
        if sources:
            self._data_sources[raw["id"]] = sources[0]["id"]
        return str(raw["id"])
