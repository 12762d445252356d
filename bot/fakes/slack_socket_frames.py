"""Socket Mode frames as Slack sends them: envelopes, acks, hello and disconnect.

Shapes from Slack's Socket Mode docs; the fake server in bot/fakes/slack_socket.py uses them.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from websockets.asyncio.server import ServerConnection

DISCONNECT_REASONS = ("warning", "refresh_requested", "link_disabled", "too_many_websockets")
RESPONSE_PAYLOAD_TYPES = {"view_submission", "block_suggestion"}


@dataclass
class Envelope:
    """One envelope the fake sent (or queued) to the app."""

    envelope_id: str
    type: str
    payload: dict[str, Any]
    accepts_response_payload: bool
    retry_attempt: int | None = None
    retry_reason: str | None = None
    connection: int | None = None
    sent_at: float | None = None

    def frame(self) -> dict[str, Any]:
        """Return the JSON frame as Slack sends it."""
        frame: dict[str, Any] = {
            "envelope_id": self.envelope_id,
            "payload": self.payload,
            "type": self.type,
            "accepts_response_payload": self.accepts_response_payload,
        }
        if self.retry_attempt is not None:
            frame["retry_attempt"] = self.retry_attempt
            frame["retry_reason"] = self.retry_reason or ""
        return frame


@dataclass
class Ack:
    """An acknowledgement the app sent back, with its response payload (if any)."""

    envelope_id: str
    payload: dict[str, Any] | None
    connection: int
    at: float = field(default_factory=time.monotonic)


@dataclass
class Link:
    """One WebSocket connection from the app."""

    id: int
    ws: ServerConnection
    opened_at: float = field(default_factory=time.monotonic)
    ready: bool = False  # hello sent
    silent: bool = False
    closed_at: float | None = None

    @property
    def live(self) -> bool:
        """Return whether envelopes can be delivered on this connection."""
        return self.ready and not self.silent and self.closed_at is None


def envelope_from_signed(signed: tuple[str, dict[str, str]]) -> tuple[str, dict[str, Any]]:
    """Turn a signed HTTP request (SlackRequestSigner) into (envelope type, payload)."""
    body, headers = signed
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    if content_type.startswith("application/json"):
        return "events_api", json.loads(body)
    fields = dict(parse_qsl(body, keep_blank_values=True))
    if "payload" in fields:
        return "interactive", json.loads(fields["payload"])
    return "slash_commands", fields


def hello_frame(*, num_connections: int, app_id: str) -> dict[str, Any]:
    """Return the `hello` Slack sends when a connection opens."""
    return {
        "type": "hello",
        "num_connections": num_connections,
        "debug_info": {
            "host": "applink-fake",
            "build_number": 1,
            "approximate_connection_time": 18060,
        },
        "connection_info": {"app_id": app_id},
    }


def disconnect_frame(reason: str) -> dict[str, Any]:
    """Return a `disconnect` message (warning, refresh_requested, link_disabled, …)."""
    if reason not in DISCONNECT_REASONS:
        raise ValueError(f"unknown disconnect reason {reason!r}")
    return {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-fake"}}


def new_app_token(app_id: str = "A0001") -> str:
    """Return an app-level token in Slack's shape (xapp-1-<app id>-<digits>-<hex>)."""
    return f"xapp-1-{app_id}-{secrets.randbelow(10**12)}-{secrets.token_hex(32)}"
