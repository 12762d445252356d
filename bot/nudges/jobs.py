"""The nudge pass: recompute due times, record due nudges in the outbox, then send them.

Exactly once: a nudge is an outbox row whose key is made of incident, kind and due time, so
a pass (or a second process) that plans it again records nothing new; the outbox claims it,
counts the attempt before Slack is called and looks an unconfirmed attempt up in the channel
before sending it again. One pass runs at a time per database: a PostgreSQL session advisory
lock (released by the server when a process dies), or a process-wide lock on SQLite, where a
single process is assumed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bot.db import session_scope, utcnow
from bot.nudges import rules, service
from bot.observability.tracing import traced
from bot.outbox import service as outbox
from bot.outbox.service import Claimed, Outgoing
from bot.slack.blocks import nudges as nudge_blocks

if TYPE_CHECKING:
    from bot.deps import Deps

log = structlog.get_logger(__name__)

PASS_LOCK_ID = 0x5EB0_7A9D  # pg advisory lock key of the nudge pass
POLL_EVERY = timedelta(milliseconds=500)
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


def _outgoing(facts: rules.Facts, due: rules.Due, deps: Deps) -> Outgoing | None:
    settings = deps.settings
    target, thread_ts = facts.channel_id, None
    if due.kind == rules.UPDATE_ESCALATION:
        target, thread_ts = facts.announcement_channel_id, facts.announcement_ts
    elif due.kind == rules.SCHEDULE_DM or (due.kind == rules.COMPLETE and not due.escalate):
        target = facts.postmortem_owner
    elif due.kind == rules.COMPLETE:
        target = settings.managers_channel
    if not target:
        return None
    text, blocks = nudge_blocks.build(
        facts, due, schedule_interval=settings.postmortem_schedule_nudge_after
    )
    return Outgoing(
        key=f"{facts.incident_id}:{due.kind}:{due.due_at.isoformat()}",
        kind=due.kind,
        target=target,
        text=text,
        blocks=blocks,
        thread_ts=thread_ts,
        incident_id=facts.incident_id,
        due_at=due.due_at,
    )


def record_due(deps: Deps, now: datetime) -> tuple[int, int]:
    """Recompute changed or due incidents; record their due nudges (not yet sent)."""
    with session_scope(deps.session_factory) as session:
        facts = service.candidates(session=session, now=now)
        if not facts:
            return 0, 0
        known = service.scheduled_ids([f.incident_id for f in facts], session=session)
        planned: list[tuple[rules.Facts, datetime | None]] = []
        rows: list[Outgoing] = []
        for item in facts:
            plan = rules.plan(item, deps.settings, now)
            planned.append((item, plan.next_due_at))
            rows.extend(r for due in plan.due if (r := _outgoing(item, due, deps)))
        outbox.enqueue(rows, session=session)
        service.save_schedules(planned, session=session, known=known)
    return len(facts), len(rows)


def deliver_pending(deps: Deps, now: datetime) -> tuple[int, int]:
    """Send every recorded nudge that is due for a (re)try; failures stay queued."""
    done = deps.outbox.deliver_due(kinds=rules.ALL_KINDS, now=now)
    return done.sent, done.failed


def superseded_retries(
    batch: list[Claimed], session: Session, now: datetime, *, deps: Deps
) -> dict[str, str]:
    """Close retries that no longer apply; fresh nudges were planned from current facts."""
    retries = [a for a in batch if a.attempts_before > 0 and a.incident_id is not None]
    if not retries:
        return {}
    facts = service.facts_for(
        sorted({a.incident_id for a in retries if a.incident_id}), session=session
    )
    closed: dict[str, str] = {}
    for item in retries:
        current = facts.get(item.incident_id or 0)
        if current is None:
            continue
        reason = rules.superseded(
            item.kind, item.due_at, item.created_at, current, deps.settings, now
        )
        if reason is not None:
            closed[item.key] = reason
    return closed
