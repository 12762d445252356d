"""Group commit for channel activity: many message events, one transaction, off the ack path.

Recording a human message must not hold up Slack's ack, and under load one transaction per
event is the bottleneck. So events are queued and one writer thread commits them in batches.
A graceful stop (SIGTERM) flushes the queue. What a hard crash could drop — the last
milliseconds of activity timestamps — is recovered at start-up from the channels' history
(see ``reconcile_activity``), so no activity is lost for the nudges.
"""

from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import Future
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import Engine
from sqlalchemy.exc import InterfaceError, OperationalError

from bot.incidents.service import message_statements

log = structlog.get_logger(__name__)

MAX_BATCH = 500
WRITE_ATTEMPTS = 5
_STOP = object()


class ActivityWriter:
    """Writes (incident, ts, user, time) rows in batches from one background thread."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._queue: queue.Queue[Any] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def record(self, incident_id: int, ts: str, user_id: str, posted_at: datetime) -> None:
        """Queue one message row for the next batch."""
        self._ensure_started()
        row = {"incident_id": incident_id, "ts": ts, "user_id": user_id, "posted_at": posted_at}
        self._queue.put(row)

    def flush(self, timeout: float = 30.0) -> None:
        """Wait until everything queued so far is committed (or has failed for good)."""
        if self._thread is None:
            return
        marker: Future[None] = Future()
        self._queue.put(marker)
        marker.result(timeout=timeout)

    def close(self) -> None:
        """Commit what is queued and stop the thread."""
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
        stop = False
        while not stop:
            batch = [self._queue.get()]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stop = any(item is _STOP for item in batch)
            rows = [item for item in batch if isinstance(item, dict)]
            if rows:
                self._write(rows)
            for item in batch:
                if isinstance(item, Future):
                    item.set_result(None)

    def _write(self, rows: list[dict[str, Any]]) -> None:
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                self._commit(rows)
                return
            except (OperationalError, InterfaceError) as exc:  # a busy or unreachable database
                log.warning(
                    "activity_write_failed", rows=len(rows), attempt=attempt, problem=str(exc)
                )
                time.sleep(min(2.0**attempt * 0.1, 5.0))
            except Exception as exc:  # a row the database refuses: keep the others
                log.warning("activity_batch_refused", rows=len(rows), problem=str(exc)[:200])
                self._write_each(rows)
                return
        log.error("activity_write_gave_up", rows=len(rows))  # reconciled at the next start

    def _write_each(self, rows: list[dict[str, Any]]) -> None:
        """Commit rows one at a time, so one bad row never costs the good ones."""
        for row in rows:
            try:
                self._commit([row])
            except Exception as exc:
                log.warning(
                    "activity_row_dropped", incident_id=row["incident_id"], problem=str(exc)[:200]
                )

    def _commit(self, rows: list[dict[str, Any]]) -> None:
        record, clock = message_statements(self.engine.dialect.name)
        # The newest message of each incident moves its activity clock.
        newest: dict[int, dict[str, Any]] = {}
        for row in rows:
            seen = newest.get(row["incident_id"])
            if seen is None or row["posted_at"] > seen["posted_at"]:
                newest[row["incident_id"]] = row
        with self.engine.begin() as connection:
            connection.execute(record, rows)
            connection.execute(clock, list(newest.values()))
