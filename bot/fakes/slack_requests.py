"""Signed requests as Slack sends them to the app: slash commands, interactivity, Events API.

Each builder returns `(body, headers)` ready to POST to /slack/events or to pass to
`to_bolt_request()` for `app.dispatch()`. Signing uses slack_sdk's own SignatureVerifier.
"""

from __future__ import annotations

import itertools
import json
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any, TypedDict, Unpack
from urllib.parse import urlencode

from slack_bolt import BoltRequest
from slack_sdk.signature import SignatureVerifier

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
STALE_SECONDS = 600  # Slack's replay window is 5 minutes


class SignOptions(TypedDict, total=False):
    """How to sign: retries, a fixed or stale timestamp, a bad signature."""

    retry_num: int
    retry_reason: str
    timestamp: int
    stale: bool
    bad_signature: bool


def plain_text_value(text: str) -> dict[str, Any]:
    """Return the state value of a plain_text_input."""
    return {"type": "plain_text_input", "value": text}


def static_select_value(value: str, text: str | None = None) -> dict[str, Any]:
    """Return the state value of a static_select."""
    option = {"text": {"type": "plain_text", "text": text or value}, "value": value}
    return {"type": "static_select", "selected_option": option}


def users_select_value(user_id: str | None) -> dict[str, Any]:
    """Return the state value of a users_select."""
    return {"type": "users_select", "selected_user": user_id}


def multi_users_select_value(user_ids: list[str]) -> dict[str, Any]:
    """Return the state value of a multi_users_select."""
    return {"type": "multi_users_select", "selected_users": list(user_ids)}


def button_action(
    action_id: str, value: str = "", *, block_id: str = "actions", text: str = "Button"
) -> dict[str, Any]:
    """Return one clicked-button entry for a block_actions payload."""
    return {
        "type": "button",
        "action_id": action_id,
        "block_id": block_id,
        "text": {"type": "plain_text", "text": text, "emoji": True},
        "value": value,
        "action_ts": f"{time.time():.6f}",
    }


class SlackRequestSigner:
    """Build requests signed with an app's signing secret, as Slack would send them."""

    def __init__(
        self,
        signing_secret: str,
        *,
        team_id: str = "T0001",
        team_domain: str = "fake",
        api_app_id: str = "A0001",
        bot_user_id: str = "U0BOT",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.verifier = SignatureVerifier(signing_secret)
        self.team_id = team_id
        self.team_domain = team_domain
        self.api_app_id = api_app_id
        self.bot_user_id = bot_user_id
        self.clock = clock
        self._sequence = itertools.count(1)

    # ---- signing -----------------------------------------------------------
    def sign(
        self, body: str, content_type: str, **options: Unpack[SignOptions]
    ) -> tuple[str, dict[str, str]]:
        """Return the body with Slack's headers: timestamp, v0 signature, optional retry."""
        timestamp = options.get("timestamp", int(self.clock()))
        if options.get("stale"):
            timestamp -= STALE_SECONDS
        signature = self.verifier.generate_signature(timestamp=str(timestamp), body=body) or ""
        if options.get("bad_signature"):
            signature = "v0=" + ("0" if signature[-1:] != "0" else "1") * 64
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(timestamp),
            "X-Slack-Signature": signature,
        }
        if "retry_num" in options:
            headers["X-Slack-Retry-Num"] = str(options["retry_num"])
            headers["X-Slack-Retry-Reason"] = options.get("retry_reason", "http_timeout")
        return body, headers

    def trigger_id(self) -> str:
        """Return a fresh trigger_id in Slack's format (digits.digits.hex)."""
        middle = f"{next(self._sequence)}{secrets.randbelow(10**9)}"
        return f"{int(self.clock() * 1000)}.{middle}.{secrets.token_hex(16)}"

    def _hook_url(self, kind: str) -> str:
        token = secrets.token_hex(12)
        return f"https://hooks.slack.com/{kind}/{self.team_id}/{next(self._sequence)}/{token}"

    def _user(self, user_id: str, user_name: str) -> dict[str, Any]:
        return {"id": user_id, "username": user_name, "name": user_name, "team_id": self.team_id}

    # ---- slash commands ----------------------------------------------------------
    def slash_command(
        self,
        *,
        user_id: str,
        channel_id: str,
        text: str = "",
        command: str = "/incident",
        user_name: str = "alice",
        channel_name: str = "general",
        trigger_id: str | None = None,
        response_url: str | None = None,
        **options: Unpack[SignOptions],
    ) -> tuple[str, dict[str, str]]:
        """Build a signed slash command (form-encoded)."""
        fields = {
            "token": "verification-token",
            "team_id": self.team_id,
            "team_domain": self.team_domain,
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": user_name,
            "command": command,
            "text": text,
            "api_app_id": self.api_app_id,
            "is_enterprise_install": "false",
            "response_url": response_url or self._hook_url("commands"),
            "trigger_id": trigger_id or self.trigger_id(),
        }
        return self.sign(urlencode(fields), FORM, **options)

    # ---- interactivity -----------------------------------------------------------
    def interactivity(
        self, payload: dict[str, Any], **options: Unpack[SignOptions]
    ) -> tuple[str, dict[str, str]]:
        """Sign any interactivity payload (sent as a `payload=` form field)."""
        return self.sign(urlencode({"payload": json.dumps(payload)}), FORM, **options)

    def view_submission(
        self,
        *,
        user_id: str,
        callback_id: str,
        values: dict[str, dict[str, dict[str, Any]]],
        view_id: str = "V0000000001",
        private_metadata: str = "",
        blocks: list[dict[str, Any]] | None = None,
        user_name: str = "alice",
        trigger_id: str | None = None,
        **options: Unpack[SignOptions],
    ) -> tuple[str, dict[str, str]]:
        """Build a signed view_submission; `values` maps block_id -> action_id -> value."""
        view = {
            "id": view_id,
            "team_id": self.team_id,
            "type": "modal",
            "blocks": blocks or [],
            "private_metadata": private_metadata,
            "callback_id": callback_id,
            "state": {"values": values},
            "hash": f"{int(self.clock())}.{secrets.token_hex(4)}",
            "title": {"type": "plain_text", "text": "Modal"},
            "clear_on_close": False,
            "notify_on_close": False,
            "close": None,
            "submit": {"type": "plain_text", "text": "Submit"},
            "previous_view_id": None,
            "root_view_id": view_id,
            "app_id": self.api_app_id,
            "external_id": "",
            "app_installed_team_id": self.team_id,
            "bot_id": "B0001",
        }
        payload = {
            "type": "view_submission",
            "team": {"id": self.team_id, "domain": self.team_domain},
            "user": self._user(user_id, user_name),
            "api_app_id": self.api_app_id,
            "token": "verification-token",
            "trigger_id": trigger_id or self.trigger_id(),
            "view": view,
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
        return self.interactivity(payload, **options)

    def block_actions(
        self,
        *,
        user_id: str,
        actions: list[dict[str, Any]],
        channel_id: str | None = None,
        channel_name: str = "general",
        message: dict[str, Any] | None = None,
        view: dict[str, Any] | None = None,
        user_name: str = "alice",
        trigger_id: str | None = None,
        **options: Unpack[SignOptions],
    ) -> tuple[str, dict[str, str]]:
        """Build a signed block_actions payload from a message (channel + message) or a view."""
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user(user_id, user_name),
            "api_app_id": self.api_app_id,
            "token": "verification-token",
            "trigger_id": trigger_id or self.trigger_id(),
            "team": {"id": self.team_id, "domain": self.team_domain},
            "enterprise": None,
            "is_enterprise_install": False,
            "state": {"values": {}},
            "actions": actions,
        }
        if view is not None:
            payload["container"] = {"type": "view", "view_id": view.get("id")}
            payload["view"] = view
        else:
            ts = (message or {}).get("ts", f"{self.clock():.6f}")
            payload["container"] = {
                "type": "message",
                "message_ts": ts,
                "channel_id": channel_id,
                "is_ephemeral": False,
            }
            payload["channel"] = {"id": channel_id, "name": channel_name}
            payload["message"] = message or {"type": "message", "ts": ts, "text": ""}
            payload["response_url"] = self._hook_url("actions")
        return self.interactivity(payload, **options)

    # ---- Events API ----------------------------------------------------------------
    def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        event_time: int | None = None,
        **options: Unpack[SignOptions],
    ) -> tuple[str, dict[str, str]]:
        """Build a signed event_callback wrapping one event."""
        envelope = {
            "token": "verification-token",
            "team_id": self.team_id,
            "api_app_id": self.api_app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._sequence):04d}{secrets.token_hex(4).upper()}",
            "event_time": event_time if event_time is not None else int(self.clock()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": self.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{secrets.token_hex(16)}",
        }
        return self.sign(json.dumps(envelope), JSON, **options)

    def message_event(
        self,
        *,
        channel: str,
        user: str,
        text: str,
        ts: str | None = None,
        thread_ts: str | None = None,
        subtype: str | None = None,
        event_id: str | None = None,
        **options: Unpack[SignOptions],
    ) -> tuple[str, dict[str, str]]:
        """Build a signed `message` event posted in a channel."""
        ts = ts or f"{self.clock():.6f}"
        event: dict[str, Any] = {
            "type": "message",
            "channel": channel,
            "user": user,
            "text": text,
            "ts": ts,
            "event_ts": ts,
            "channel_type": "channel",
            "team": self.team_id,
        }
        if thread_ts:
            event["thread_ts"] = thread_ts
        if subtype:
            event["subtype"] = subtype
        return self.event(event, event_id=event_id, **options)

    def url_verification(self, challenge: str = "challenge") -> tuple[str, dict[str, str]]:
        """Build the signed url_verification handshake."""
        body = {"token": "verification-token", "challenge": challenge, "type": "url_verification"}
        return self.sign(json.dumps(body), JSON)


def to_bolt_request(body: str, headers: dict[str, str]) -> BoltRequest:
    """Wrap a signed request for `app.dispatch()`."""
    return BoltRequest(body=body, headers=dict(headers))


def send(url: str, body: str, headers: dict[str, str], *, timeout: float = 10.0) -> tuple[int, str]:
    """POST a signed request over HTTP and return (status, body text)."""
    request = urllib.request.Request(url, data=body.encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
