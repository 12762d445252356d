"""Send what the outbox recorded, exactly once.

- A row is claimed before it is sent (one more attempt counted, a lease taken), so two
  processes never send it at the same time; the lease is renewed while Slack is slow.
- A row whose earlier attempt was never confirmed (a crash, a lost answer) is looked up in
  Slack by its key before it is sent again.
- Failures back off; a permanent refusal (an archived channel, an unknown user) is given up
  after a few tries and logged. A veto registered for a kind closes rows that no longer apply
  (a nudge for an incident that was resolved meanwhile).
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from sqlalchemy.orm import Session, sessionmaker

from bot.db import session_scope, utcnow
from bot.integrations.ports import ChatError, ChatPort, FileShare, IntegrationError
from bot.outbox import service
from bot.outbox.service import EVENT, Claimed

log = structlog.get_logger(__name__)

LEASE = timedelta(seconds=30)
RENEW_EVERY = 10.0  # seconds; well inside the lease
LOOKBACK = timedelta(minutes=2)  # how far before its recording a message may have landed
MAX_BACKOFF = timedelta(seconds=60)  # for outages; Slack refusals back off up to an hour
# Slack answers that retrying will not change (the conversation or person is gone).
PERMANENT = {"channel_not_found", "is_archived", "user_not_found", "account_inactive"}
PERMANENT_ATTEMPTS = 3
# Answers about the message itself: no retry can fix them.
HOPELESS = {"msg_too_long", "invalid_blocks", "invalid_blocks_format", "no_text"}

# Closes claimed rows that no longer apply; returns {key: reason}.
Veto = Callable[[list[Claimed], Session, datetime], dict[str, str]]
# Does a side effect other than a plain post (an event, an invite); returns (channel, ts).
Handler = Callable[[Claimed], tuple[str | None, str | None]]


@dataclass(frozen=True)
class Delivered:
    """What one delivery round did."""

    sent: int = 0
    failed: int = 0
    closed: int = 0


@dataclass
class Outbox:
    """Delivers recorded side effects through the chat port (tagged posts) and the event bus."""

    session_factory: sessionmaker[Session]
    chat: ChatPort
    handlers: dict[str, Handler] = field(default_factory=dict)
    vetoes: dict[str, Veto] = field(default_factory=dict)
    observers: dict[str, list[Callable[[Claimed], None]]] = field(default_factory=dict)
    workers: int = 4
    _in_flight: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _renewer: threading.Thread | None = None
    _stop: threading.Event = field(default_factory=threading.Event)

    def handle(self, kind: str, handler: Handler) -> None:
        """Register how rows of a kind are done (instead of being posted)."""
        self.handlers[kind] = handler

    def observe(self, kinds: Collection[str], observer: Callable[[Claimed], None]) -> None:
        """Call observer for each row of these kinds once it is sent (metrics)."""
        for kind in kinds:
            self.observers.setdefault(kind, []).append(observer)

    def veto(self, kinds: Collection[str], veto: Veto) -> None:
        """Register a veto for rows of these kinds."""
        for kind in kinds:
            self.vetoes[kind] = veto

    def deliver(self, keys: Sequence[str]) -> Delivered:
        """Send these rows now if they are due and nobody else holds them (after a commit)."""
        now = utcnow()
        with session_scope(self.session_factory) as session:
            batch = service.claim(keys, session=session, now=now, lease=LEASE)
            batch, closed = self._apply_vetoes(batch, session, now)
        return self._send_all(batch, closed)

    def deliver_due(
        self, *, limit: int = 200, kinds: Collection[str] | None = None, now: datetime | None = None
    ) -> Delivered:
        """Send every row whose (re)try time has come (the outbox job, and the nudge pass)."""
        now = now or utcnow()
        with session_scope(self.session_factory) as session:
            keys = service.due(session=session, now=now, limit=limit, kinds=kinds)
            batch = service.claim(keys, session=session, now=now, lease=LEASE)
            batch, closed = self._apply_vetoes(batch, session, now)
        return self._send_all(batch, closed)

    def close(self) -> None:
        """Stop renewing leases."""
        self._stop.set()

    def _apply_vetoes(
        self, batch: list[Claimed], session: Session, now: datetime
    ) -> tuple[list[Claimed], int]:
        closed: dict[str, str] = {}
        for kind in {c.kind for c in batch}:
            veto = self.vetoes.get(kind)
            if veto is not None:
                closed.update(veto([c for c in batch if c.kind == kind], session, now))
        for key, reason in closed.items():
            service.close(key, session=session, reason=f"superseded: {reason}", at=now)
            log.info("outbox_superseded", key=key, reason=reason)
        return [c for c in batch if c.key not in closed], len(closed)

    def _send_all(self, batch: list[Claimed], closed: int) -> Delivered:
        if not batch:
            return Delivered(closed=closed)
        self._hold({c.key for c in batch})
        try:
            messages = [c for c in batch if c.kind != EVENT]
            if len(messages) <= 1:
                outcomes = [self._attempt(c) for c in messages]
            else:  # different channels do not share Slack's per-channel limit
                with ThreadPoolExecutor(min(self.workers, len(messages))) as pool:
                    runs = [
                        pool.submit(contextvars.copy_context().run, self._attempt, item)
                        for item in messages
                    ]
                    outcomes = [run.result() for run in runs]
            # Events after the messages: a reaction to a change follows its announcement.
            outcomes += [self._attempt(c) for c in batch if c.kind == EVENT]
        finally:
            self._drop({c.key for c in batch})
        return Delivered(
            sent=outcomes.count("sent"),
            failed=outcomes.count("failed"),
            closed=closed + outcomes.count("closed"),
        )

    def _attempt(self, item: Claimed) -> str:
        try:
            recovered, channel_id, ts = self._send(item)
        except IntegrationError as exc:
            return self._failed(item, exc)
        except Exception as exc:  # a bug must not leave the row claimed forever
            log.exception("outbox_send_crashed", key=item.key)
            return self._failed(item, IntegrationError(f"internal error: {type(exc).__name__}"))
        with session_scope(self.session_factory) as session:
            service.mark_sent(item.key, session=session, channel_id=channel_id, ts=ts, at=utcnow())
        log.info("outbox_sent", key=item.key, kind=item.kind, recovered=recovered)
        if not recovered:
            for observer in self.observers.get(item.kind, []):
                observer(item)
        return "recovered" if recovered else "sent"

    def _send(self, item: Claimed) -> tuple[bool, str | None, str | None]:
        """Do the side effect; return (found from an earlier attempt, channel, ts)."""
        handler = self.handlers.get(item.kind)
        if handler is not None:
            channel, ts = handler(item)
            return False, channel, ts
        channel_id = item.channel_id or self.chat.channel_for(item.target)
        oldest = (item.created_at - LOOKBACK).timestamp()
        if item.file_name:
            if item.attempts_before > 0:
                found = self.chat.find_file(
                    channel_id, item.file_name, oldest=oldest, thread_ts=item.thread_ts
                )
                if found:
                    return True, channel_id, found
            file = FileShare(
                filename=item.file_name,
                content=(item.file_content or "").encode(),
                title=item.file_title or item.file_name,
                initial_comment=item.text or None,
            )
            self.chat.share_tagged(channel_id, file, thread_ts=item.thread_ts)
            return False, channel_id, None
        if item.attempts_before > 0:
            found = self.chat.find_tagged(
                channel_id, item.key, oldest=oldest, thread_ts=item.thread_ts
            )
            if found:
                return True, channel_id, found
        posted = self.chat.post_tagged(
            channel_id, item.text, item.blocks, key=item.key, thread_ts=item.thread_ts
        )
        return False, posted.channel_id, posted.ts

    def _failed(self, item: Claimed, error: IntegrationError) -> str:
        code = error.code if isinstance(error, ChatError) else None
        hopeless = code in HOPELESS or (
            code in PERMANENT and item.attempts_before + 1 >= PERMANENT_ATTEMPTS
        )
        with session_scope(self.session_factory) as session:
            if hopeless:
                service.close(
                    item.key, session=session, reason=f"Slack refused: {error}", at=utcnow()
                )
            else:
                service.mark_failed(
                    item.key,
                    session=session,
                    error=str(error),
                    retry_at=utcnow() + backoff(item.attempts_before + 1, error),
                )
        if hopeless:
            log.error("outbox_given_up", key=item.key, kind=item.kind, problem=str(error))
            return "closed"
        log.warning("outbox_send_failed", key=item.key, kind=item.kind, problem=str(error))
        return "failed"

    def _hold(self, keys: set[str]) -> None:
        with self._lock:
            self._in_flight |= keys
            if self._renewer is None:
                self._renewer = threading.Thread(
                    target=self._renew_leases, name="sevbot-outbox-lease", daemon=True
                )
                self._renewer.start()

    def _drop(self, keys: set[str]) -> None:
        with self._lock:
            self._in_flight -= keys

    def _renew_leases(self) -> None:
        """Keep the claims of slow sends (Slack retrying a 429) from expiring under them."""
        while not self._stop.wait(RENEW_EVERY):
            with self._lock:
                keys = set(self._in_flight)
            if not keys:
                continue
            try:
                with session_scope(self.session_factory) as session:
                    service.renew(keys, session=session, until=utcnow() + LEASE)
            except Exception:
                log.warning("outbox_lease_renewal_failed", keys=len(keys))


def backoff(attempts: int, error: IntegrationError) -> timedelta:
    """Return the wait before the next attempt: doubling, capped lower for outages."""
    base = timedelta(seconds=min(2 ** max(attempts - 1, 0), 3600))
    return base if isinstance(error, ChatError) else min(base, MAX_BACKOFF)
