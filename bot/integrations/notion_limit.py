"""Notion's request limit (an average of 3 requests per second per integration).

`NotionRateLimiter` paces the requests of one process. `SharedNotionRateLimiter` paces the
requests of every process that shares the database (`sevbot web`, `sevbot worker`, replicas):
one row holds the time of the next free slot, and each request books a slot with one atomic
`UPDATE … RETURNING` (a row lock on PostgreSQL, the write lock on SQLite), using the
database's clock so hosts with skewed clocks still agree.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

from sqlalchemy import Double, Engine, String, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from bot.db import Base

log = logging.getLogger(__name__)

NOTION_REQUESTS_PER_SECOND = 3.0


class RequestSlot(Base):
    """The next free request slot of a rate-limited vendor, shared by every process."""

    __tablename__ = "request_slots"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Seconds since the epoch, on the database's clock.
    next_at: Mapped[float] = mapped_column(Double)


class RequestLimiter(Protocol):
    """What the Notion adapter asks of a limiter."""

    def acquire(self) -> None:
        """Wait for the next free slot."""
        ...

    def pause(self, seconds: float) -> None:
        """Push every later request back (after a 429)."""
        ...


class NotionRateLimiter:
    """Space this process's Notion requests evenly, at most `per_second` on average."""

    def __init__(
        self,
        per_second: float = NOTION_REQUESTS_PER_SECOND,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self._next = 0.0
        self._lock = threading.Lock()
        self._sleep = sleep

    def acquire(self) -> None:
        """Wait for the next free slot."""
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            self._sleep(start - now)

    def pause(self, seconds: float) -> None:
        """Push every later request back (after a 429)."""
        with self._lock:
            self._next = max(self._next, time.monotonic() + seconds)


# Seconds since the epoch on the database server, as a double.
_DB_NOW = {
    "postgresql": "CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS double precision)",
    "sqlite": "((julianday('now') - 2440587.5) * 86400.0)",
}
_LATEST = {"postgresql": "GREATEST", "sqlite": "MAX"}


class SharedNotionRateLimiter:
    """Space the Notion requests of every process sharing this database, `per_second` in all.

    When the database cannot be reached the process falls back to pacing itself (Notion's
    429 answers, which the adapter waits out, still protect the shared limit).
    """

    def __init__(
        self,
        engine: Engine,
        per_second: float = NOTION_REQUESTS_PER_SECOND,
        *,
        name: str = "notion",
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        dialect = engine.dialect.name
        if dialect not in _DB_NOW:
            raise ValueError(f"no shared rate limiter for the {dialect} database")
        self.engine = engine
        self.name = name
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self._sleep = sleep
        self._fallback = NotionRateLimiter(per_second, sleep=sleep)
        self._degraded = False
        now, latest = _DB_NOW[dialect], _LATEST[dialect]
        self._book = text(
            f"UPDATE request_slots SET next_at = {latest}(next_at, {now}) + :interval "
            f"WHERE name = :name RETURNING next_at - :interval - {now}"
        )
        self._pause = text(
            f"UPDATE request_slots SET next_at = {latest}(next_at, {now} + :seconds) "
            "WHERE name = :name"
        )
        self._create = text(
            "INSERT INTO request_slots (name, next_at) VALUES (:name, 0) "
            "ON CONFLICT (name) DO NOTHING"
        )

    def _wait_for_slot(self) -> float:
        with self.engine.begin() as conn:
            row = conn.execute(self._book, {"name": self.name, "interval": self.interval}).first()
            if row is None:  # first use of this limiter on this database
                conn.execute(self._create, {"name": self.name})
                row = conn.execute(
                    self._book, {"name": self.name, "interval": self.interval}
                ).first()
        assert row is not None
        return float(row[0])

    def acquire(self) -> None:
        """Book the next free slot in the database and wait for it."""
        if self.interval <= 0:
            return
        try:
            wait = self._wait_for_slot()
        except SQLAlchemyError as exc:
            self._degrade(exc)
            self._fallback.acquire()
            return
        self._recover()
        if wait > 0:
            self._sleep(wait)

    def pause(self, seconds: float) -> None:
        """Push every process's later requests back (after a 429)."""
        self._fallback.pause(seconds)
        try:
            with self.engine.begin() as conn:
                conn.execute(self._pause, {"name": self.name, "seconds": seconds})
        except SQLAlchemyError as exc:
            self._degrade(exc)

    def _degrade(self, exc: SQLAlchemyError) -> None:
        if not self._degraded:
            self._degraded = True
            log.warning(
                "the shared Notion rate limit is unavailable (%s); pacing this process alone",
                exc.__class__.__name__,
            )

    def _recover(self) -> None:
        if self._degraded:
            self._degraded = False
            log.info("the shared Notion rate limit is back")
