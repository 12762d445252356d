"""Slack adapter, continued: messages tagged with metadata (idempotency keys), found again."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient

from bot.integrations.slack import SlackAdapter, translated


@dataclass(frozen=True)
class Posted:
    """Where a nudge landed."""

    channel_id: str
    ts: str


class NudgeChat:
    """Posts nudges tagged with their idempotency key, and finds them after a crash."""

    def __init__(self, client: WebClient, adapter: SlackAdapter, *, event_type: str) -> None:
        self.client = client
        self.adapter = adapter
        self.event_type = event_type

    def channel_for(self, target: str) -> str:
        """Return the conversation id of a channel id or name, or open the DM for a user id."""
        if target[:1] in ("C", "G", "D") and target.isalnum() and target.upper() == target:
            return target
        if target[:1] not in ("U", "W"):
            return self.adapter.resolve_channel(target)
        with translated("conversations.open"):
            opened = self.client.conversations_open(users=target)
        return str(opened["channel"]["id"])

    def post(
        self,
        channel_id: str,
        text: str,
        blocks: list[dict[str, Any]],
        *,
        key: str,
        thread_ts: str | None = None,
    ) -> Posted:
        """Post a nudge carrying its key in the message metadata."""
        metadata = {"event_type": self.event_type, "event_payload": {"key": key}}
        with translated("chat.postMessage"):
            response = self.client.chat_postMessage(
                channel=channel_id,
                text=text,
                blocks=blocks or None,
                thread_ts=thread_ts,
                metadata=metadata,
                unfurl_links=False,
            )
        return Posted(str(response["channel"]), str(response["ts"]))

    def find(
        self, channel_id: str, key: str, *, oldest: float, thread_ts: str | None = None
    ) -> str | None:
        """Return the ts of a message posted with this key since oldest, if there is one."""
        cursor: str | None = None
        while True:
            with translated("conversations.history"):
                if thread_ts:
                    page = self.client.conversations_replies(
                        channel=channel_id,
                        ts=thread_ts,
                        oldest=f"{oldest:.6f}",
                        include_all_metadata=True,
                        limit=200,
                        cursor=cursor,
                    )
                else:
                    page = self.client.conversations_history(
                        channel=channel_id,
                        oldest=f"{oldest:.6f}",
                        include_all_metadata=True,
                        limit=200,
                        cursor=cursor,
                    )
            for message in page.get("messages") or []:
                meta = message.get("metadata") or {}
                payload = meta.get("event_payload") or {}
                if meta.get("event_type") == self.event_type and payload.get("key") == key:
                    return str(message["ts"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
