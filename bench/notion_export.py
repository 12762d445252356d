"""Export postmortems with 10, 500 and 2,000 timeline entries to the fake Notion and print figures.

The fake answers after 300 ms and enforces Notion's 3 requests/s; the adapter keeps to 3/s.
For each size it prints the requests made (writes and reads), the wall time, 429s met, and the
fewest requests Notion's limits allow (100 children, 1,000 block elements and 500KB per
request, plus the reads any export needs: database, find-by-number, users, children list).

Run: .venv/bin/python bench/notion_export.py [sizes...]
"""

from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.db import make_engine, make_session_factory, migrate, session_scope  # noqa: E402
from bot.fakes.notion import FakeNotion  # noqa: E402
from bot.incidents import service as incidents  # noqa: E402
from bot.incidents.models import Incident  # noqa: E402
from bot.integrations.notion import NotionAdapter  # noqa: E402
from bot.integrations.ports import ChatUser, NotFound  # noqa: E402
from bot.postmortems.export import export_postmortem  # noqa: E402
from bot.postmortems.packing import lower_bound_requests, payload_size  # noqa: E402
from bot.postmortems.render import build_facts, load_template, render_segments  # noqa: E402
from bot.postmortems.setup import SCHEMA  # noqa: E402
from bot.settings import Settings  # noqa: E402

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FIXED_READS = 3  # database -> data source, find page by number, users (owner by email)


@dataclass
class BenchChat:
    """Slack as the export sees it: two known users, posts kept in memory."""

    posts: list[str] = field(default_factory=list)

    def user(self, user_id: str) -> ChatUser:
        if user_id not in ("UALICE", "UBOB"):
            raise NotFound(user_id)
        return ChatUser(user_id, user_id.title(), f"{user_id.lower()}@example.com", None)

    def post_message(self, channel: str, text: str, **_: Any) -> str:
        self.posts.append(text)
        return "1.0"


def seed(factory: Any, number: int, entries: int) -> int:
    """Insert a resolved incident with `entries` Slack updates (permalinks included)."""
    with session_scope(factory) as session:
        incident = Incident(
            number=number, title="Checkout returns 500s", severity="SEV-2", status="resolved",
            reporter_id="UBOB", commander_id="UALICE", declared_at=T0,
            resolved_at=T0 + timedelta(hours=3), request_key=f"bench-{number}",
            channel_id=f"CINC{number}", channel_name=f"inc-{number}",
        )  # fmt: skip
        session.add(incident)
        session.flush()
        for i in range(entries):
            incidents.add_timeline_entry(
                incident.id, session=session, kind="update", actor_id="UBOB",
                text=f"Update {i}: checked the payment gateway, error rate still 4% in eu-west",
                permalink=f"https://acme.slack.com/archives/CINC{number}/p{1772442000000000 + i}",
                occurred_at=T0 + timedelta(seconds=5 * i),
            )  # fmt: skip
        return incident.id


def minimum(factory: Any, incident_id: int, settings: Settings) -> int:
    """Return the fewest requests the limits allow for this incident's page."""
    with session_scope(factory) as session:
        incident = incidents.get(incident_id, session=session)
        assert incident is not None
        entries = list(incidents.timeline(incident_id, session=session))
        facts = build_facts(incident, entries, names={}, timezone="Europe/Paris", now=T0)
    segments = render_segments(facts, template=load_template(settings.postmortem_template))
    blocks = [block for segment in segments for block in segment.blocks]
    writes = lower_bound_requests(blocks, first_overhead=payload_size({"properties": {}}))
    reads = -(-len(blocks) // 100)  # the block ids must be read back once to map regions
    return FIXED_READS + writes + reads


def main(sizes: list[int]) -> None:
    """Run the benchmark and print one line per size."""
    tmp = Path(tempfile.mkdtemp())
    engine = make_engine(f"sqlite:///{tmp / 'bench.db'}")
    migrate(engine)
    factory = make_session_factory(engine)
    print("entries  requests  (writes/reads)  minimum  429s  wall time")
    for number, size in enumerate(sizes, start=1):
        fake = FakeNotion(latency=0.3, requests_per_second=3)
        fake.start()
        fake.add_user("Alice", "ualice@example.com")
        database_id = fake.add_database(SCHEMA)
        settings = Settings(
            notion_token=fake.token, notion_api_url=fake.base_url,
            notion_postmortem_database_id=database_id, postmortem_template="",
        )  # fmt: skip
        notion = NotionAdapter(fake.token, base_url=fake.base_url)
        incident_id = seed(factory, number, size)
        fake.requests.clear()
        started = time.monotonic()
        result = export_postmortem(
            incident_id, session_factory=factory, notion=notion, chat=BenchChat(),  # type: ignore[arg-type]
            settings=settings,
        )  # fmt: skip
        wall = time.monotonic() - started
        total = len(fake.requests)
        writes = sum(1 for r in fake.requests if r.method in ("POST", "PATCH", "DELETE"))
        writes -= sum(1 for r in fake.requests if r.path.endswith("/query"))
        [page] = fake.pages_in(fake.data_source_of(database_id))
        rows = sum(1 for b in fake.page_blocks(page["id"]) if b["type"] == "table_row")
        assert result.status == "exported", result.message
        print(
            f"{size:>7}  {total:>8}  ({writes:>2}/{total - writes:<2})       "
            f"{minimum(factory, incident_id, settings):>7}  {fake.rate_limited_count:>4}  "
            f"{wall:6.2f}s   ({rows} table rows written)"
        )
        fake.requests.clear()
        started = time.monotonic()
        again = export_postmortem(
            incident_id, session_factory=factory, notion=notion, chat=BenchChat(),  # type: ignore[arg-type]
            settings=settings,
        )  # fmt: skip
        assert again.status == "exported", again.message
        print(
            f"{'':>7}  re-export (regenerate bot regions): {len(fake.requests)} requests, "
            f"{time.monotonic() - started:.2f}s"
        )
        notion.close()
        fake.stop()
    engine.dispose()


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [10, 500, 2000])
