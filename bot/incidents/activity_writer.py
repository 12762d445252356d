"""Group commit for channel activity: many concurrent message events, one transaction.

Every human message in an incident channel is written before Slack gets its ack (so nothing
is lost), but concurrent events share a transaction: callers enqueue their row and wait for
the single writer thread to commit the batch it belongs to.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import Engine

from bot.incidents.service import message_statements

log = structlog.get_logger(__name__)

MAX_BATCH = 500
_STOP = object()


class ActivityWriter:
    """Writes (incident, ts, user, time) rows in batches from one background thread."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._queue: queue.Queue[Any] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def record(self, incident_id: int, ts: str, user_id: str, posted_at: datetime) -> None:
        """Write one message row; return once it is committed (raise if the commit failed)."""
        done: Future[None] = Future()
        self._ensure_started()
        row = {"incident_id": incident_id, "ts": ts, "user_id": user_id, "posted_at": posted_at}
        self._queue.put((row, done))
        done.result(timeout=30)

    def close(self) -> None:
        """Finish the queued writes and stop the thread."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(_STOP)
            thread.join(timeout=30)

    def _ensure_started(self) -> None:
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="sevbot-activity-writer", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    self._queue.put(_STOP)
                    break
                batch.append(item)
            self._write(batch)

    def _write(self, batch: list[tuple[dict[str, Any], Future[None]]]) -> None:
        record, clock = message_statements(self.engine.dialect.name)
        rows = [row for row, _ in batch]
        try:
            with self.engine.begin() as connection:
                connection.execute(record, rows)
                # The newest message of each incident moves its activity clock.
                newest: dict[int, dict[str, Any]] = {}
                for row in rows:
                    seen = newest.get(row["incident_id"])
                    if seen is None or row["posted_at"] > seen["posted_at"]:
                        newest[row["incident_id"]] = row
                connection.execute(clock, list(newest.values()))
        except Exception as exc:
            log.warning("activity_write_failed", rows=len(rows), problem=str(exc))
            for _, done in batch:
                done.set_exception(exc)
            return
        for _, done in batch:
            done.set_result(None)
