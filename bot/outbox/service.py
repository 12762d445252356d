"""Data access for the outbox. Every function takes a keyword-only session."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, type_coerce, update
from sqlalchemy.orm import Session

from bot.db import UtcDateTime, upsert_insert, utcnow
from bot.outbox.models import OutboxMessage

_O = OutboxMessage
EVENT = "event"  # the kind of rows that carry a domain event instead of a message


@dataclass(frozen=True)
class Outgoing:
    """A side effect to record: a message (with an optional file) or a domain event."""

    key: str
    kind: str
    target: str = ""
    text: str = ""
    blocks: list[dict[str, Any]] = field(default_factory=list)
    thread_ts: str | None = None
    incident_id: int | None = None
    due_at: datetime | None = None
    file_name: str | None = None
    file_title: str | None = None
    file_content: str | None = None
    payload: dict[str, Any] | None = None


@dataclass(frozen=True)
class Claimed:
    """A recorded side effect this process holds the right to send, detached from the session."""

    key: str
    kind: str
    incident_id: int | None
    due_at: datetime
    target: str
    channel_id: str | None
    thread_ts: str | None
    text: str
    blocks: list[dict[str, Any]]
    file_name: str | None
    file_title: str | None
    file_content: str | None
    payload: dict[str, Any] | None
    attempts_before: int
    created_at: datetime


def enqueue(messages: Sequence[Outgoing], *, session: Session) -> list[str]:
    """Record side effects in the caller's transaction; a key already recorded is left alone."""
    if not messages:
        return []
    now = utcnow()
    rows = [
        {
            "key": m.key[:200],
            "kind": m.kind,
            "incident_id": m.incident_id,
            "due_at": m.due_at or now,
            "target": m.target,
            "thread_ts": m.thread_ts,
            "text": m.text,
            "blocks": list(m.blocks),
            "file_name": m.file_name,
            "file_title": m.file_title,
            "file_content": m.file_content,
            "payload": m.payload,
            "created_at": now,
            "attempts": 0,
        }
        for m in messages
    ]
    stmt = upsert_insert(session, OutboxMessage).on_conflict_do_nothing(index_elements=["key"])
    session.execute(stmt, rows)
    return [str(row["key"]) for row in rows]


_CLAIMED_COLUMNS = (
    _O.key,
    _O.kind,
    _O.incident_id,
    _O.due_at,
    _O.target,
    _O.channel_id,
    _O.thread_ts,
    _O.text,
    _O.blocks,
    _O.file_name,
    _O.file_title,
    _O.file_content,
    _O.payload,
    _O.attempts,
    _O.created_at,
)


def claim(
    keys: Collection[str], *, session: Session, now: datetime, lease: timedelta
) -> list[Claimed]:
    """Take the unsent, unclaimed, due rows among keys, counting one more attempt for each.

    The attempt is counted before Slack is called: a row claimed again after a crash is
    looked up in Slack before it is sent. Concurrent claimers get disjoint rows.
    """
    if not keys:
        return []
    stmt = (
        update(OutboxMessage)
        .where(_O.key.in_(list(keys)), _O.sent_at.is_(None))
        .where(or_(_O.claimed_until.is_(None), _O.claimed_until < now))
        .where(or_(_O.next_attempt_at.is_(None), _O.next_attempt_at <= now))
        .values(claimed_until=now + lease, attempts=_O.attempts + 1)
        .returning(*_CLAIMED_COLUMNS)
        .execution_options(synchronize_session=False)
    )
    claimed = [
        Claimed(
            key=r.key,
            kind=r.kind,
            incident_id=r.incident_id,
            due_at=r.due_at,
            target=r.target,
            channel_id=r.channel_id,
            thread_ts=r.thread_ts,
            text=r.text,
            blocks=list(r.blocks or []),
            file_name=r.file_name,
            file_title=r.file_title,
            file_content=r.file_content,
            payload=r.payload,
            attempts_before=r.attempts - 1,
            created_at=r.created_at,
        )
        for r in session.execute(stmt).all()
    ]
    return sorted(claimed, key=lambda c: (c.due_at, c.created_at, c.key))


def due(
    *, session: Session, now: datetime, limit: int = 200, kinds: Collection[str] | None = None
) -> list[str]:
    """Return keys of unsent rows whose (re)try time has come and that nobody holds."""
    query = (
        select(_O.key)
        .where(_O.sent_at.is_(None))
        .where(or_(_O.next_attempt_at.is_(None), _O.next_attempt_at <= now))
        .where(or_(_O.claimed_until.is_(None), _O.claimed_until < now))
        .order_by(_O.due_at, _O.created_at, _O.key)
        .limit(limit)
    )
    if kinds is not None:
        query = query.where(_O.kind.in_(list(kinds)))
    return list(session.scalars(query).all())


def renew(keys: Collection[str], *, session: Session, until: datetime) -> None:
    """Extend the claims of rows still being sent."""
    if keys:
        session.execute(
            update(OutboxMessage)
            .where(_O.key.in_(list(keys)), _O.sent_at.is_(None))
            .values(claimed_until=until)
            .execution_options(synchronize_session=False)
        )


def release_all(*, session: Session) -> int:
    """Drop every claim (a single-process database at start-up: nobody else can hold one)."""
    result = session.execute(
        update(OutboxMessage)
        .where(_O.claimed_until.is_not(None), _O.sent_at.is_(None))
        .values(claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def mark_sent(
    key: str, *, session: Session, channel_id: str | None, ts: str | None, at: datetime
) -> None:
    """Record that a side effect happened."""
    session.execute(
        update(OutboxMessage)
        .where(_O.key == key)
        .values(sent_at=at, channel_id=channel_id, ts=ts, last_error=None, claimed_until=None)
        .execution_options(synchronize_session=False)
    )


def mark_failed(key: str, *, session: Session, error: str, retry_at: datetime) -> None:
    """Keep a failed side effect queued, to be retried at retry_at."""
    session.execute(
        update(OutboxMessage)
        .where(_O.key == key)
        .values(last_error=error[:500], next_attempt_at=retry_at, claimed_until=None)
        .execution_options(synchronize_session=False)
    )


def close(key: str, *, session: Session, reason: str, at: datetime) -> None:
    """Close a side effect unsent: superseded, or refused for good."""
    session.execute(
        update(OutboxMessage)
        .where(_O.key == key)
        .values(sent_at=at, channel_id=None, ts=None, last_error=reason, claimed_until=None)
        .execution_options(synchronize_session=False)
    )


def sent_ts(key: str, *, session: Session) -> str | None:
    """Return the ts of the message a row became, once it is in Slack."""
    return session.scalar(select(_O.ts).where(_O.key == key, _O.sent_at.is_not(None)))


def backlog(*, session: Session) -> tuple[int, datetime | None]:
    """Return how many side effects are unsent and when the oldest was recorded."""
    oldest_created = type_coerce(func.min(_O.created_at), UtcDateTime())
    count, oldest = session.execute(
        select(func.count(), oldest_created).where(_O.sent_at.is_(None))
    ).one()
    return int(count), oldest
