"""The Slack adapter, continued: posts and files tagged with an outbox key, found after a crash.

SlackAdapter (bot/integrations/slack.py) inherits these methods; together they implement
ChatPort.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from slack_sdk import WebClient

from bot.integrations.ports import FileShare, Posted

T = TypeVar("T")

OUTBOX_EVENT = "sevbot_outbox"
# Nudges posted before the outbox carried this event type; they are still found.
_KNOWN_EVENTS = {OUTBOX_EVENT, "sevbot_nudge"}


class TaggedPosts:
    """Posts carrying their idempotency key (the outbox's), and the lookup for them."""

    client: WebClient

    def _call(self, method: str, fn: Callable[[], T]) -> T:
        """Call the Web API, turning its errors into ours (implemented by SlackAdapter)."""
        raise NotImplementedError

    def resolve_channel(self, name_or_id: str) -> str:
        """Return a channel's id (implemented by SlackAdapter)."""
        raise NotImplementedError

    def share_file(self, channel: str, file: FileShare, thread_ts: str | None = None) -> None:
        """Upload a file (implemented by SlackAdapter)."""
        raise NotImplementedError

    def channel_for(self, target: str) -> str:
        """Return the conversation id of a channel id or name, or open the DM for a user id."""
        if target[:1] in ("C", "G", "D") and target.isalnum() and target.upper() == target:
            return target
        if target[:1] not in ("U", "W"):
            return self.resolve_channel(target)
        opened = self._call(
            "conversations.open", lambda: self.client.conversations_open(users=target)
        )
        return str(opened["channel"]["id"])

    def post_tagged(
        self,
        channel_id: str,
        text: str,
        blocks: list[dict[str, Any]],
        *,
        key: str,
        thread_ts: str | None = None,
    ) -> Posted:
        """Post a message carrying its key in the message metadata."""
        metadata = {"event_type": OUTBOX_EVENT, "event_payload": {"key": key}}
        response = self._call(
            "chat.postMessage",
            lambda: self.client.chat_postMessage(
                channel=channel_id,
                text=text,
                blocks=blocks or None,
                thread_ts=thread_ts,
                metadata=metadata,
                unfurl_links=False,
            ),
        )
        return Posted(str(response["channel"]), str(response["ts"]))

    def share_tagged(
        self, channel_id: str, file: FileShare, *, thread_ts: str | None = None
    ) -> None:
        """Upload a file (its name is its key: files carry no metadata)."""
        self.share_file(channel_id, file, thread_ts)

    def find_tagged(
        self, channel_id: str, key: str, *, oldest: float, thread_ts: str | None = None
    ) -> str | None:
        """Return the ts of a message posted with this key since oldest, if there is one."""
        for message in self._messages(channel_id, oldest=oldest, thread_ts=thread_ts):
            meta = message.get("metadata") or {}
            payload = meta.get("event_payload") or {}
            if meta.get("event_type") in _KNOWN_EVENTS and payload.get("key") == key:
                return str(message["ts"])
        return None

    def find_file(
        self, channel_id: str, file_name: str, *, oldest: float, thread_ts: str | None = None
    ) -> str | None:
        """Return the ts of a message sharing a file of this name since oldest, if any."""
        for message in self._messages(channel_id, oldest=oldest, thread_ts=thread_ts):
            for file in message.get("files") or []:
                if isinstance(file, dict) and file.get("name") == file_name:
                    return str(message["ts"])
        return None

    def _messages(
        self, channel_id: str, *, oldest: float, thread_ts: str | None
    ) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            page = self._call(
                "conversations.history",
                functools.partial(self._history_page, channel_id, oldest, thread_ts, cursor),
            )
            found.extend(m for m in page.get("messages") or [] if isinstance(m, dict))
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return found

    def _history_page(
        self, channel_id: str, oldest: float, thread_ts: str | None, cursor: str | None
    ) -> Any:
        if thread_ts:
            return self.client.conversations_replies(
                channel=channel_id,
                ts=thread_ts,
                oldest=f"{oldest:.6f}",
                include_all_metadata=True,
                limit=200,
                cursor=cursor,
            )
        return self.client.conversations_history(
            channel=channel_id,
            oldest=f"{oldest:.6f}",
            include_all_metadata=True,
            limit=200,
            cursor=cursor,
        )
