"""Acks first: background listener work waits while Slack requests are being acknowledged.

Slack allows 3 seconds for an ack, and every request of a burst shares the process's CPU with
the slow work earlier requests left behind (channel setups, posts). Python runs one thread at
a time, so that work makes acks queue for the interpreter. The gate lets queued background
work start once no Slack request has been in flight for a moment, and never later than
MAX_DEFER after it was queued, so it is delayed, not starved.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any

from bot.i18n import ContextThreadPoolExecutor

MAX_DEFER = 1.0  # seconds background work may wait for acks
QUIET = 0.05  # seconds without a request in flight that count as idle


class AckGate:
    """Counts Slack requests in flight; background work waits until there are none."""

    def __init__(self) -> None:
        self._busy = 0
        self._last_exit = 0.0
        self._changed = threading.Condition()

    @contextmanager
    def acking(self) -> Iterator[None]:
        """Mark a Slack request as being handled."""
        with self._changed:
            self._busy += 1
        try:
            yield
        finally:
            with self._changed:
                self._busy -= 1
                self._last_exit = time.monotonic()
                self._changed.notify_all()

    def wait_idle(self, max_wait: float = MAX_DEFER) -> None:
        """Return once no request was in flight for QUIET seconds, or after max_wait."""
        deadline = time.monotonic() + max_wait
        with self._changed:
            while True:
                now = time.monotonic()
                if now >= deadline:
                    return
                if self._busy == 0:
                    quiet_for = now - self._last_exit
                    if quiet_for >= QUIET:
                        return
                    self._changed.wait(min(QUIET - quiet_for, deadline - now))
                else:
                    self._changed.wait(deadline - now)


class AckFirstExecutor(ContextThreadPoolExecutor):
    """The listener pool: each task waits for the gate before it starts (in its caller's context,
    so it still knows whom it answers)."""

    def __init__(self, gate: AckGate, max_workers: int, thread_name_prefix: str = "") -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix=thread_name_prefix)
        self.gate = gate

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Queue fn to run once acks in flight are done (at most MAX_DEFER later)."""

        def deferred() -> Any:
            self.gate.wait_idle()
            return fn(*args, **kwargs)

        return super().submit(deferred)
