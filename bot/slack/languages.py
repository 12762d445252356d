"""Who reads a reply, in which language: Slack locales cached per user, warmed in the background.

A Bolt middleware records the language of the person each request comes from, so private
replies (ephemeral messages, modal errors, help) follow their Slack locale. Looking a locale
up means calling Slack, which the 3-second ack must never wait on: the first request from a
person is answered in the workspace language while their locale is fetched for the next ones.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

import structlog

from bot import i18n
from bot.integrations.ports import IntegrationError

log = structlog.get_logger(__name__)

TTL_SECONDS = 6 * 3600  # people rarely change their Slack language


class ReaderLanguages:
    """Slack locale of each user, mapped to one of our languages, cached for TTL_SECONDS."""

    def __init__(
        self,
        lookup: Callable[[str], str | None],
        executor: Executor,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.lookup = lookup
        self.executor = executor
        self.clock = clock
        self._known: dict[str, tuple[str | None, float]] = {}
        self._pending: set[str] = set()
        self._lock = threading.Lock()

    def cached(self, user_id: str) -> tuple[bool, str | None]:
        """Return (known, language) from the cache without calling Slack."""
        with self._lock:
            entry = self._known.get(user_id)
        if entry is None or self.clock() - entry[1] > TTL_SECONDS:
            return False, None
        return True, entry[0]

    def fetch(self, user_id: str) -> str | None:
        """Look the user's locale up in Slack now and cache the language (None if unknown)."""
        try:
            found = i18n.language_of_locale(self.lookup(user_id))
        except IntegrationError as exc:
            log.info("user_locale_unavailable", user=user_id, problem=str(exc))
            found = None
        with self._lock:
            self._known[user_id] = (found, self.clock())
            self._pending.discard(user_id)
        return found

    def without_waiting(self, user_id: str) -> str | None:
        """Return the cached language; on a miss, fetch it in the background and return None."""
        known, found = self.cached(user_id)
        if known:
            return found
        with self._lock:
            if user_id in self._pending:
                return None
            self._pending.add(user_id)
        self.executor.submit(self.fetch, user_id)
        return None


def user_of(body: dict[str, Any]) -> str | None:
    """Return the ID of the person a Slack request comes from."""
    if body.get("user_id"):  # slash commands
        return str(body["user_id"])
    user = body.get("user")
    if isinstance(user, dict) and user.get("id"):  # interactivity
        return str(user["id"])
    event = body.get("event")
    if isinstance(event, dict) and isinstance(event.get("user"), str):  # Events API
        return str(event["user"])
    return None


def reader_middleware(languages: ReaderLanguages) -> Callable[..., Any]:
    """Return a Bolt middleware recording the language of the person being answered."""

    def record_reader(body: dict[str, Any], next: Callable[[], Any]) -> Any:  # noqa: A002
        user = user_of(body)
        i18n.set_reader(languages.without_waiting(user) if user else None)
        return next()

    return record_reader
