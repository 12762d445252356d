"""Fixtures: the Notion fake with a real notion-client adapter, a recording chat, incidents."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.db import session_scope
from bot.fakes.notion import FakeNotion
from bot.incidents import service as incidents
from bot.incidents.models import Incident
from bot.integrations.notion import NotionAdapter
from bot.integrations.ports import ChatUser, NotFound
from bot.postmortems.setup import SCHEMA
from bot.settings import Settings

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class RecordingChat:
    """A ChatPort stand-in that records posts and knows a few users."""

    users: dict[str, ChatUser] = field(default_factory=dict)
    posts: list[tuple[str, str, str | None]] = field(default_factory=list)

    def post_message(
        self,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
    ) -> str:
        self.posts.append((channel, text, thread_ts))
        return f"{len(self.posts)}.000"

    def user(self, user_id: str) -> ChatUser:
        if user_id not in self.users:
            raise NotFound(f"no user {user_id}")
        return self.users[user_id]

    def texts(self, channel: str) -> list[str]:
        return [text for ch, text, _ in self.posts if ch == channel]


@pytest.fixture
def fake_notion() -> Iterator[FakeNotion]:
    fake = FakeNotion()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def notion(fake_notion: FakeNotion, sleeps: list[float]) -> Iterator[NotionAdapter]:
    adapter = NotionAdapter(
        fake_notion.token,
        base_url=fake_notion.base_url,
        timeout=5,
        requests_per_second=0,
        sleep=sleeps.append,
    )
    yield adapter
    adapter.close()


@pytest.fixture
def database_id(fake_notion: FakeNotion) -> str:
    return fake_notion.add_database(SCHEMA)


@pytest.fixture
def settings(database_id: str, fake_notion: FakeNotion, tmp_path: Any) -> Settings:
    return Settings(
        notion_token=fake_notion.token,
        notion_api_url=fake_notion.base_url,
        notion_postmortem_database_id=database_id,
        default_timezone="Europe/Paris",
        postmortem_template=str(tmp_path / "missing.md"),
    )


@pytest.fixture
def chat() -> RecordingChat:
    return RecordingChat(
        users={
            "UALICE": ChatUser("UALICE", "Alice Martin", "alice@example.com", "Europe/Paris"),
            "UBOB": ChatUser("UBOB", "Bob", "bob@example.com", None),
        }
    )


def make_incident(
    factory: sessionmaker[Session], *, number: int = 42, entries: int = 3, resolved: bool = True
) -> int:
    """Insert a resolved incident with a few timeline entries and return its id."""
    with session_scope(factory) as session:
        incident = Incident(
            number=number,
            title="Checkout returns 500s",
            severity="SEV-2",
            status="resolved" if resolved else "investigating",
            reporter_id="UBOB",
            commander_id="UALICE",
            comms_id="UBOB",
            declared_at=T0,
            resolved_at=T0 + timedelta(hours=2) if resolved else None,
            request_key=f"key-{number}",
            channel_id=f"CINC{number}",
            channel_name=f"inc-{number}-checkout",
            announcement_channel_id="CANNOUNCE",
            announcement_ts="1700000000.000100",
        )
        session.add(incident)
        session.flush()
        incidents.add_timeline_entry(
            incident.id, session=session, kind="declared", text="Checkout down",
            actor_id="UBOB", occurred_at=T0,
        )  # fmt: skip
        incidents.add_timeline_entry(
            incident.id, session=session, kind="severity", text="", actor_id="UALICE",
            occurred_at=T0 + timedelta(minutes=20), data={"from": "SEV-3", "to": "SEV-2"},
        )  # fmt: skip
        for i in range(max(0, entries - 2)):
            incidents.add_timeline_entry(
                incident.id,
                session=session,
                kind="update",
                text=f"Update number {i}: still investigating the payment gateway",
                actor_id="UBOB",
                permalink=f"https://acme.slack.com/archives/CINC{number}/p{1700000000 + i}",
                occurred_at=T0 + timedelta(minutes=21, seconds=i),
            )
        return incident.id
