"""The outbox: recorded with the change, sent after the commit, exactly once through crashes."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.db import session_scope, utcnow
from bot.fakes.server import Response
from bot.incidents import flows
from bot.incidents.events import IncidentResolved
from bot.outbox import service
from bot.outbox.models import OutboxMessage
from bot.outbox.service import Outgoing
from tests.harness import Harness


def _row(h: Harness, key: str) -> OutboxMessage:
    with session_scope(h.deps.session_factory) as session:
        row = session.get(OutboxMessage, key)
        assert row is not None
        return row


def _tagged(h: Harness, channel: str, key: str) -> list[dict[str, Any]]:
    return [
        m
        for m in h.slack.messages(channel)
        if ((m.get("metadata") or {}).get("event_payload") or {}).get("key") == key
    ]


def _record(h: Harness, channel: str, key: str = "test:1", text: str = "hello") -> str:
    with session_scope(h.deps.session_factory) as session:
        [recorded] = service.enqueue(
            [Outgoing(key=key, kind="test_post", target=channel, text=text)], session=session
        )
    return recorded


def _expire_claim(h: Harness, key: str) -> None:
    """The process holding the claim died: its lease runs out."""
    with session_scope(h.deps.session_factory) as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.key == key)
            .values(claimed_until=utcnow() - timedelta(seconds=1))
        )


def test_an_update_recorded_before_a_crash_is_posted_once_by_the_job(harness: Harness) -> None:
    h = harness
    inc = h.declare()
    # The ack recorded the update and its posts; the process died before the follow-up ran.
    change = flows.record_update(inc["channel"], "Rolled back", h.alice, ctx=h.deps.incidents)
    assert len(change.keys) == 2
    assert all(_row(h, key).sent_at is None for key in change.keys)
    assert h.deps.outbox.deliver_due().sent == 2
    assert h.deps.outbox.deliver_due().sent == 0
    [channel_key] = [k for k in change.keys if k.endswith(":channel")]
    assert len(_tagged(h, inc["channel"], channel_key)) == 1
    [thread_key] = [k for k in change.keys if k.endswith(":thread")]
    assert len(_tagged(h, h.incidents_channel, thread_key)) == 1


def test_a_crash_between_post_and_record_does_not_duplicate(harness: Harness) -> None:
    h = harness
    key = _record(h, h.general)
    with session_scope(h.deps.session_factory) as session:  # claimed and counted...
        [claimed] = service.claim([key], session=session, now=utcnow(), lease=timedelta(minutes=1))
    posted = h.deps.chat.post_tagged(h.general, claimed.text, [], key=key)  # ...posted...
    _expire_claim(h, key)  # ...and the process died before recording it
    done = h.deps.outbox.deliver_due()
    assert (done.sent, done.failed) == (0, 0)  # found in the channel, not posted again
    assert len(_tagged(h, h.general, key)) == 1
    assert _row(h, key).ts == posted.ts


def test_two_processes_delivering_the_same_rows_send_each_once(harness: Harness) -> None:
    h = harness
    from tests.nudges.conftest import second_process

    keys = [_record(h, h.general, key=f"race:{i}", text=f"race {i}") for i in range(20)]
    other = second_process(h)
    barrier = threading.Barrier(2)

    def deliver(deps: Any) -> None:
        barrier.wait()
        deps.outbox.deliver(keys)

    threads = [threading.Thread(target=deliver, args=(d,)) for d in (h.deps, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    h.deps.outbox.deliver_due()
    for key in keys:
        assert len(_tagged(h, h.general, key)) == 1, key


def test_outages_back_off_and_a_permanent_refusal_is_given_up(harness: Harness) -> None:
    h = harness
    key = _record(h, h.general)
    h.slack.inject(
        lambda r: r.path.endswith("/chat.postMessage"),
        lambda r: Response(503, {"ok": False, "error": "service_unavailable"}),
        4,  # the first try and the client's three retries
    )
    assert h.deps.outbox.deliver([key]).failed == 1
    row = _row(h, key)
    assert row.sent_at is None and row.next_attempt_at is not None and row.last_error
    assert h.deps.outbox.deliver_due().sent == 0  # backing off
    assert h.deps.outbox.deliver_due(now=utcnow() + timedelta(seconds=2)).sent == 1
    archived = h.slack.add_channel("old-stuff")
    h.slack.archive_channel(archived)
    gone = _record(h, archived, key="test:archived")
    later = utcnow()
    for _ in range(3):
        later += timedelta(hours=2)
        h.deps.outbox.deliver_due(now=later)
    row = _row(h, gone)
    assert row.sent_at is not None and row.ts is None
    assert row.last_error is not None and "is_archived" in row.last_error


def test_an_event_recorded_with_a_change_reaches_the_bus(harness: Harness) -> None:
    h = harness
    inc = h.declare()
    seen: list[object] = []
    h.deps.bus.subscribe(IncidentResolved, seen.append)
    change = flows.resolve(inc["channel"], "fixed", h.alice, ctx=h.deps.incidents)
    assert seen == []  # nothing happens before the commit's side effects are delivered
    h.deps.outbox.deliver_due()
    assert seen == [IncidentResolved(inc["id"])]
    h.deps.outbox.deliver(change.keys)
    assert seen == [IncidentResolved(inc["id"])]


@pytest.mark.parametrize("count", [3])
def test_backlog_reports_unsent_rows(harness: Harness, count: int) -> None:
    h = harness
    for i in range(count):
        _record(h, h.general, key=f"backlog:{i}")
    with session_scope(h.deps.session_factory) as session:
        pending, oldest = service.backlog(session=session)
        unsent = session.scalars(select(OutboxMessage.key).where(OutboxMessage.sent_at.is_(None)))
        assert pending == len(list(unsent)) >= count
    assert oldest is not None and oldest <= utcnow()
