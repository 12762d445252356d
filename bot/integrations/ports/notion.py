"""What the postmortem and follow-up domains ask of Notion (bot.integrations.notion)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class NotionPage:
    """A page of the postmortem database, with property values simplified to Python values."""

    id: str
    url: str
    last_edited_time: datetime
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ChildBlock:
    """A top-level block as listed: its id, type and the plain text of its own rich text."""

    id: str
    type: str
    text: str


class NotionPort(Protocol):
    """Notion, as the postmortem domain sees it. Raises bot.integrations.ports exceptions."""

    def data_source_id(self, database_id: str) -> str:
        """Return the data source of a database (cached)."""
        ...

    def schema(self, data_source_id: str) -> dict[str, str]:
        """Return the property names and types of a data source."""
        ...

    def find_page(
        self, data_source_id: str, *, number_property: str, number: int
    ) -> NotionPage | None:
        """Return the page whose number property equals `number`, if any."""
        ...

    def find_page_by_title(
        self, data_source_id: str, *, title_property: str, starts_with: str
    ) -> NotionPage | None:
        """Return a page whose title starts with `starts_with`, if any."""
        ...

    def create_page(
        self, data_source_id: str, properties: dict[str, Any], children: list[dict[str, Any]]
    ) -> NotionPage:
        """Create a page in a data source with its first blocks."""
        ...

    def update_page(self, page_id: str, properties: dict[str, Any]) -> NotionPage:
        """Update some properties of a page; raise Trashed when it is in the trash."""
        ...

    def append_blocks(
        self, parent_id: str, children: list[dict[str, Any]], *, after: str | None = None
    ) -> list[str]:
        """Append blocks (after a sibling when given); return the new top-level block ids."""
        ...

    def delete_block(self, block_id: str) -> None:
        """Move a block (and its children) to the trash; a missing block is fine."""
        ...

    def child_block_ids(self, parent_id: str) -> list[str]:
        """Return the ids of a page's or block's live top-level children."""
        ...

    def child_blocks(self, parent_id: str) -> list[ChildBlock]:
        """Return a page's or block's live top-level children with their type and text."""
        ...

    def pages_edited_since(self, data_source_id: str, since: datetime) -> list[NotionPage]:
        """Return the pages edited at or after `since`, oldest edit first."""
        ...

    def user_id_by_email(self, email: str) -> str | None:
        """Return the Notion person with this email, if the integration can see it."""
        ...

    def email_of_user(self, user_id: str) -> str | None:
        """Return the email of a Notion person, if the integration can see it."""
        ...

    def create_database(
        self, parent_page_id: str, title: str, properties: dict[str, dict[str, Any]]
    ) -> str:
        """Create a database under a page with one data source of this schema; return its id."""
        ...
