"""The nudge pass: recompute due times, record due nudges, then send what is recorded.

Exactly once: a nudge is recorded (with a key made of incident, kind and due time) before
it is sent, and its attempt is counted before Slack is called; an attempted but unconfirmed
nudge is looked up by its key in the channel before it is sent again. One pass runs at a time
per database: a PostgreSQL session advisory lock (released by the server when a process dies),
or a process-wide lock on SQLite, where a single process is assumed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import Engine, func, select

from bot.db import session_scope, utcnow
from bot.integrations.ports import ChatError, IntegrationError
from bot.integrations.slack_metadata import NudgeChat
from bot.nudges import messages, rules, service
from bot.nudges.ids import METADATA_EVENT
from bot.observability.metrics import nudges_sent
from bot.observability.tracing import traced

if TYPE_CHECKING:
    from bot.deps import Deps

log = structlog.get_logger(__name__)

PASS_LOCK_ID = 0x5EB0_7A9D  # pg advisory lock key of the nudge pass
POLL_EVERY = timedelta(milliseconds=500)
MAX_BACKOFF = timedelta(seconds=60)
SEND_WORKERS = 4
# How far back to look for a nudge that may have been posted before a crash.
LOOKBACK = timedelta(minutes=2)
_LOCAL_LOCKS: dict[str, threading.Lock] = {}
_LOCAL_LOCKS_GUARD = threading.Lock()


@dataclass(frozen=True)
class PassResult:
    """What one pass did."""

    planned: int
    recorded: int
    sent: int
    failed: int


@contextmanager
def pass_lock(engine: Engine) -> Iterator[bool]:
    """Hold the one-pass-at-a-time lock for this database; yield False if another has it."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            got = bool(conn.scalar(select(func.pg_try_advisory_lock(PASS_LOCK_ID))))
            try:
                yield got
            finally:
                if got:
                    conn.scalar(select(func.pg_advisory_unlock(PASS_LOCK_ID)))
        return
    with _LOCAL_LOCKS_GUARD:
        lock = _LOCAL_LOCKS.setdefault(str(engine.url), threading.Lock())
    got = lock.acquire(blocking=False)
    try:
        yield got
    finally:
        if got:
            lock.release()


@traced("nudge pass")
def run_nudges(deps: Deps, now: datetime | None = None) -> PassResult | None:
    """Run one pass (the scheduler job); None when another process is running one."""
    with pass_lock(deps.engine) as acquired:
        if not acquired:
            return None
        now = now or utcnow()
        planned, recorded = record_due(deps, now)
        sent, failed = deliver_pending(deps, now)
        return PassResult(planned, recorded, sent, failed)


def _delivery_row(facts: rules.Facts, due: rules.Due, deps: Deps) -> dict[str, Any] | None:
    settings = deps.settings
    target, thread_ts = facts.channel_id, None
    if due.kind == rules.UPDATE_ESCALATION:
        target, thread_ts = facts.announcement_channel_id, facts.announcement_ts
    elif due.kind == rules.SCHEDULE_DM or (due.kind == rules.COMPLETE and not due.escalate):
        target = messages.owner(facts)
    elif due.kind == rules.COMPLETE:
        target = settings.managers_channel
    if not target:
        return None
    text, blocks = messages.build(
        facts, due, schedule_interval=settings.postmortem_schedule_nudge_after
    )
    return {
        "key": f"{facts.incident_id}:{due.kind}:{due.due_at.isoformat()}",
        "incident_id": facts.incident_id,
        "kind": due.kind,
        "due_at": due.due_at,
        "target": target,
        "thread_ts": thread_ts,
        "text": text,
        "blocks": blocks,
        "created_at": utcnow(),
        "attempts": 0,
    }


def record_due(deps: Deps, now: datetime) -> tuple[int, int]:
    """Recompute changed or due incidents; record their due nudges (not yet sent)."""
    with session_scope(deps.session_factory) as session:
        facts = service.candidates(session=session, now=now)
        if not facts:
            return 0, 0
        known = service.scheduled_ids([f.incident_id for f in facts], session=session)
        planned: list[tuple[rules.Facts, datetime | None]] = []
        rows: list[dict[str, Any]] = []
        for item in facts:
            plan = rules.plan(item, deps.settings, now)
            planned.append((item, plan.next_due_at))
            rows.extend(r for due in plan.due if (r := _delivery_row(item, due, deps)))
        service.record_intents(rows, session=session)
        service.save_schedules(planned, session=session, known=known)
    return len(facts), len(rows)


# Slack answers that retrying will not change (the conversation or person is gone).
PERMANENT = {"channel_not_found", "is_archived", "user_not_found", "account_inactive"}
PERMANENT_ATTEMPTS = 3


def _given_up(item: Attempt, error: IntegrationError) -> bool:
    return (
        isinstance(error, ChatError)
        and error.code in PERMANENT
        and item.attempts_before + 1 >= PERMANENT_ATTEMPTS
    )


def _backoff(attempts: int, error: IntegrationError) -> timedelta:
    base = timedelta(seconds=min(2 ** max(attempts - 1, 0), 3600))
    return base if isinstance(error, ChatError) else min(base, MAX_BACKOFF)


@dataclass(frozen=True)
class Attempt:
    """A recorded nudge about to be sent, detached from the database."""

    key: str
    incident_id: int
    kind: str
    due_at: datetime
    target: str
    channel_id: str | None
    thread_ts: str | None
    text: str
    blocks: list[dict[str, Any]]
    attempts_before: int
    created_at: datetime


def deliver_pending(deps: Deps, now: datetime) -> tuple[int, int]:
    """Send every recorded nudge that is due for a (re)try; failures stay queued."""
    with session_scope(deps.session_factory) as session:
        batch = [
            Attempt(
                d.key,
                d.incident_id,
                d.kind,
                d.due_at,
                d.target,
                d.channel_id,
                d.thread_ts,
                d.text,
                list(d.blocks or []),
                d.attempts,
                d.created_at,
            )
            for d in service.pending(session=session, now=now)
        ]
        batch = _drop_superseded(batch, deps, now, session)
        # Count the attempts before Slack is called: an attempted nudge that was never
        # confirmed is looked up in the channel before it is sent again.
        service.count_attempts([a.key for a in batch], session=session)
    chat = NudgeChat(deps.web_client, deps.chat, event_type=METADATA_EVENT)

    def attempt(item: Attempt) -> bool | None:
        try:
            return deliver_one(deps, chat, item)
        except IntegrationError as exc:
            if _given_up(item, exc):
                with session_scope(deps.session_factory) as session:
                    service.mark_superseded(
                        item.key, session=session, reason=f"Slack refused: {exc}", at=utcnow()
                    )
                log.error("nudge_given_up", key=item.key, problem=str(exc))
                return None
            with session_scope(deps.session_factory) as session:
                service.mark_failed(
                    item.key,
                    session=session,
                    error=str(exc)[:500],
                    retry_at=utcnow() + _backoff(item.attempts_before + 1, exc),
                )
            log.warning("nudge_send_failed", key=item.key, problem=str(exc))
            return None

    if len(batch) <= 1 or deps.engine.dialect.name == "sqlite":  # one writer at a time there
        outcomes = [attempt(item) for item in batch]
    else:
        # Different channels do not share Slack's per-channel limit; the pass lock is held
        # until every send is done, so parallel sends never race another pass.
        with ThreadPoolExecutor(SEND_WORKERS, thread_name_prefix="sevbot-nudge") as pool:
            outcomes = list(pool.map(attempt, batch))
    return sum(1 for o in outcomes if o), sum(1 for o in outcomes if o is None)


def _drop_superseded(
    batch: list[Attempt], deps: Deps, now: datetime, session: Any
) -> list[Attempt]:
    """Close retries that no longer apply; fresh nudges were planned from current facts."""
    retries = [a for a in batch if a.attempts_before > 0]
    if not retries:
        return batch
    facts = service.facts_for(sorted({a.incident_id for a in retries}), session=session)
    keep = []
    for item in batch:
        current = facts.get(item.incident_id)
        reason = (
            rules.superseded(item.kind, item.due_at, item.created_at, current, deps.settings, now)
            if item.attempts_before > 0 and current is not None
            else None
        )
        if reason is None:
            keep.append(item)
        else:
            service.mark_superseded(item.key, session=session, reason=reason, at=now)
            log.info("nudge_superseded", key=item.key, reason=reason)
    return keep


def deliver_one(deps: Deps, chat: NudgeChat, item: Attempt) -> bool:
    """Send one recorded nudge exactly once; True if it was posted by this call."""
    channel_id = item.channel_id or chat.channel_for(item.target)
    found = None
    if item.attempts_before > 0:
        oldest = (item.created_at - LOOKBACK).timestamp()
        found = chat.find(channel_id, item.key, oldest=oldest, thread_ts=item.thread_ts)
    ts = (
        found
        or chat.post(channel_id, item.text, item.blocks, key=item.key, thread_ts=item.thread_ts).ts
    )
    with session_scope(deps.session_factory) as session:
        service.mark_sent(item.key, session=session, channel_id=channel_id, ts=ts, at=utcnow())
    log.info("nudge_sent", key=item.key, recovered=found is not None)
    if found is None:
        nudges_sent.labels(item.kind).inc()
    return found is None
