"""A fake Slack Web API on a real local socket, for tests, benchmarks and `sevbot demo`.

Point the real client at it: `WebClient(token=fake.bot_token, base_url=fake.api_url)`. It answers
like Slack (HTTP 200 with `ok: true|false`, 429 `ratelimited` with Retry-After), keeps a
thread-safe in-memory workspace, and records every call for assertions.
"""

from __future__ import annotations

import copy
import ssl
from collections import Counter
from typing import TYPE_CHECKING, Any

from slack_sdk import WebClient

from bot.fakes import slack_conversations, slack_messages, slack_views
from bot.fakes.server import FakeServer, Request, Response
from bot.fakes.slack_args import Args, decode_arguments
from bot.fakes.slack_conversations import Handler
from bot.fakes.slack_messages import post
from bot.fakes.slack_workspace import Channel, SlackApiFailure, Workspace

if TYPE_CHECKING:
    from bot.fakes.slack_socket import FakeSocketMode

API_PREFIX = "/api/"
UPLOAD_PREFIX = "/upload/v1/"
# The bot scopes of config/slack-manifest.yaml: a fresh install grants exactly these.
DEFAULT_SCOPES = (
    "channels:history",
    "im:history",
    "channels:join",
    "channels:manage",
    "channels:read",
    "chat:write",
    "commands",
    "groups:history",
    "groups:read",
    "groups:write",
    "files:write",
    "im:write",
    "pins:read",
    "pins:write",
    "reactions:read",
    "users:read",
    "users:read.email",
    "usergroups:read",
)
_UNAUTHENTICATED = {"not_authed", "invalid_auth"}
_METHODS: dict[str, Handler] = {
    **slack_conversations.METHODS,
    **slack_messages.METHODS,
    **slack_views.METHODS,
}


class FakeSlack(FakeServer):
    """The fake Slack Web API: methods at /api/<method>, file uploads at /upload/v1/<key>."""

    name = "slack"

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-test",
        latency: float = 0.0,
        team_id: str = "T0001",
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__(latency=latency, ssl_context=ssl_context)
        self.bot_token = bot_token
        self.team_id = team_id
        # Granted scopes, sent back in the x-oauth-scopes header of every authenticated call.
        self.scopes: list[str] = list(DEFAULT_SCOPES)
        self._ws = Workspace(team_id=team_id)
        self.socket_mode: FakeSocketMode | None = None  # set by FakeSocketMode.start()

    # ---- wiring ------------------------------------------------------------
    def start(self, port: int = 0) -> FakeSlack:
        """Listen on 127.0.0.1 (a free port unless one is given) in a background thread."""
        super().start(port)
        return self

    def __enter__(self) -> FakeSlack:
        return self.start() if self._httpd is None else self

    @property
    def api_url(self) -> str:
        """Return the Web API base URL to give slack_sdk (ends with /api/)."""
        return self.base_url + API_PREFIX

    def client(self, **kwargs: Any) -> WebClient:
        """Return a real slack_sdk WebClient that talks to this fake with the bot token."""
        return WebClient(token=self.bot_token, base_url=self.api_url, **kwargs)

    @property
    def bot_user_id(self) -> str:
        """Return the bot's user ID (U…)."""
        return self._ws.bot_user_id

    @property
    def bot_id(self) -> str:
        """Return the bot's bot ID (B…)."""
        return self._ws.bot_id

    # ---- seeding -------------------------------------------------------------
    def add_user(
        self,
        name: str,
        *,
        email: str | None = None,
        tz: str = "UTC",
        is_bot: bool = False,
        real_name: str | None = None,
        locale: str = "en-US",
    ) -> str:
        """Create a workspace member and return its user ID."""
        with self._lock:
            return self._ws.add_user(
                name, email=email, tz=tz, is_bot=is_bot, real_name=real_name, locale=locale
            )

    def add_channel(
        self,
        name: str,
        *,
        members: tuple[str, ...] | list[str] = (),
        bot_member: bool = True,
        is_private: bool = False,
        topic: str = "",
    ) -> str:
        """Create a channel (the bot is a member unless told otherwise) and return its ID."""
        with self._lock:
            if self._ws.find_channel(name) is not None:
                raise ValueError(f"channel {name!r} already exists")
            everyone = [*([self._ws.bot_user_id] if bot_member else []), *members]
            channel = self._ws.add_channel(
                name,
                creator=members[0] if members else self._ws.bot_user_id,
                members=everyone,
                is_private=is_private,
            )
            channel.topic = topic
            return channel.id

    def add_user_group(self, handle: str, users: list[str]) -> str:
        """Create a user group (@handle) with these members and return its ID (S…)."""
        with self._lock:
            group_id = self._ws.new_id("S")
            self._ws.user_groups[group_id] = {
                "id": group_id,
                "team_id": self._ws.team_id,
                "handle": handle.lstrip("@"),
                "name": handle.lstrip("@"),
                "users": list(users),
            }
            return group_id

    def add_message(
        self, channel: str, user: str, text: str, *, thread_ts: str | None = None
    ) -> str:
        """Store a message written by a (human) user and return its ts."""
        with self._lock:
            target = self._channel(channel)
            message = post(self._ws, target, {"text": text}, thread_ts)
            for key in ("bot_id", "app_id", "bot_profile"):
                message.pop(key)
            message["user"] = user
            return str(message["ts"])

    def deactivate_user(self, user_id: str) -> None:
        """Deactivate a member (Slack then refuses to invite them: user_is_deactivated)."""
        with self._lock:
            self._ws.users[user_id].deleted = True

    def archive_channel(self, channel: str) -> None:
        """Archive a channel."""
        with self._lock:
            self._channel(channel).archived = True

    def expire_trigger(self, trigger_id: str) -> None:
        """Make views.open/push answer expired_trigger_id for this trigger."""
        with self._lock:
            self._ws.expired_triggers.add(trigger_id)

    # ---- inspection ----------------------------------------------------------
    def channel(self, id_or_name: str) -> dict[str, Any]:
        """Return a channel as conversations.info shows it, plus its `members`."""
        with self._lock:
            target = self._channel(id_or_name)
            return {**self._ws.channel_json(target), "members": list(target.members)}

    def channels(self) -> list[dict[str, Any]]:
        """Return every channel and DM, oldest first."""
        with self._lock:
            return [
                {**self._ws.channel_json(c), "members": list(c.members)}
                for c in self._ws.channels.values()
            ]

    def user(self, user_id: str) -> dict[str, Any]:
        """Return a user as users.info shows it."""
        with self._lock:
            return self._ws.user_json(self._ws.users[user_id])

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """Return a channel's messages (thread replies included), oldest first."""
        with self._lock:
            return copy.deepcopy(self._ws.messages[self._channel(channel).id])

    def ephemeral_messages(self, channel: str) -> list[dict[str, Any]]:
        """Return the ephemeral messages shown in a channel, oldest first."""
        with self._lock:
            return copy.deepcopy(self._ws.ephemeral.get(self._channel(channel).id, []))

    def pins(self, channel: str) -> list[str]:
        """Return the ts of each pinned message in a channel."""
        with self._lock:
            return list(self._ws.pins[self._channel(channel).id])

    @property
    def views(self) -> dict[str, dict[str, Any]]:
        """Return every opened, pushed or published view by ID."""
        with self._lock:
            return copy.deepcopy(self._ws.views)

    def home_view(self, user_id: str) -> dict[str, Any] | None:
        """Return the Home tab published for a user, if any."""
        with self._lock:
            view_id = self._ws.home_views.get(user_id)
            return copy.deepcopy(self._ws.views[view_id]) if view_id else None

    @property
    def files(self) -> dict[str, dict[str, Any]]:
        """Return every file by ID, with its uploaded bytes under `content`."""
        with self._lock:
            return {
                f.id: {**self._ws.file_json(f), "content": f.content}
                for f in self._ws.files.values()
            }

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        """Return the decoded arguments (token left out) of each call to a method, in order."""
        return [
            self._arguments(r) for r in self.calls(API_PREFIX + method) if self._method(r) == method
        ]

    def method_counts(self) -> dict[str, int]:
        """Return how many times each Web API method was called."""
        return dict(Counter(m for r in self.calls(API_PREFIX) if (m := self._method(r))))

    # ---- failure injection ---------------------------------------------------
    def fail_method(self, method: str, error: str, times: int = 1) -> None:
        """Answer the next calls to a method with `ok: false` and the given error."""
        self.inject(
            lambda r: self._method(r) == method,
            lambda r: Response(200, {"ok": False, "error": error}),
            times,
        )

    def rate_limit_method(self, method: str, retry_after: int = 1, times: int = 1) -> None:
        """Answer the next calls to a method with 429 ratelimited and Retry-After."""
        self.inject(
            lambda r: self._method(r) == method,
            lambda r: Response(429, self.rate_limited_body(), {"Retry-After": str(retry_after)}),
            times,
        )

    def error_response(self, status: int) -> Response:
        """Return Slack's answer to a call it could not serve (500 internal, 503 unavailable)."""
        error = {503: "service_unavailable"}.get(status, "internal_error")
        return Response(status, {"ok": False, "error": error})

    def server_error_method(self, method: str, status: int = 500, times: int = 1) -> None:
        """Answer the next calls to a method with an HTTP 5xx, before doing anything."""
        self.inject(
            lambda r: self._method(r) == method, lambda r: self.error_response(status), times
        )

    def rate_limited_body(self) -> Any:
        """Return Slack's body for a 429."""
        return {"ok": False, "error": "ratelimited"}

    def reset(self) -> None:
        """Forget every call, injection and workspace change (IDs start over)."""
        with self._lock:
            self.requests.clear()
            self._injections.clear()
            self._ws = Workspace(team_id=self.team_id)

    # ---- serving ---------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        """Answer one Web API call or file upload."""
        if request.path.startswith(UPLOAD_PREFIX) and request.method == "POST":
            return self._upload(request)
        method = self._method(request)
        if method is None:
            return Response(404, raw=b"Not Found", headers={"Content-Type": "text/plain"})
        try:
            values = self._arguments(request, keep_token=True)
        except ValueError:
            return Response(200, {"ok": False, "error": "invalid_json"})
        with self._lock:
            body = self._call(method, values, request.headers)
            if body.get("error") in _UNAUTHENTICATED:
                return Response(200, body)
            return Response(200, body, {"x-oauth-scopes": ",".join(self.scopes)})

    def _call(self, method: str, values: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
        token = values.pop("token", None)
        auth = headers.get("authorization", "")
        bearer = auth[len("bearer ") :].strip() if auth.lower().startswith("bearer ") else None
        token = bearer or token
        if method == "apps.connections.open" and self.socket_mode is not None:
            # the app-level token, and only in the Authorization header (Slack's docs)
            return self.socket_mode.open_connection(bearer)
        if not token:
            return {"ok": False, "error": "not_authed"}
        if token != self.bot_token:
            return {"ok": False, "error": "invalid_auth"}
        handler = _METHODS.get(method)
        if handler is None:
            return {"ok": False, "error": "unknown_method", "req_method": method}
        self._ws.upload_base = self.base_url
        try:
            return {"ok": True, **handler(self._ws, Args(values))}
        except SlackApiFailure as failure:
            return failure.body()

    def _upload(self, request: Request) -> Response:
        with self._lock:
            file_id = self._ws.upload_keys.pop(request.path[len(UPLOAD_PREFIX) :], None)
            if file_id is None:
                return Response(404, raw=b"Not Found", headers={"Content-Type": "text/plain"})
            file = self._ws.files[file_id]
            file.content = request.body
            file.length = len(request.body)
        return Response(
            200, raw=f"OK - {len(request.body)}".encode(), headers={"Content-Type": "text/plain"}
        )

    def _channel(self, ref: str) -> Channel:
        found = self._ws.find_channel(ref)
        if found is None:
            raise KeyError(f"no channel {ref!r} in the fake workspace")
        return found

    @staticmethod
    def _method(request: Request) -> str | None:
        if not request.path.startswith(API_PREFIX):
            return None
        return request.path[len(API_PREFIX) :].strip("/") or None

    @staticmethod
    def _arguments(request: Request, *, keep_token: bool = False) -> dict[str, Any]:
        values = decode_arguments(
            request.query, request.body, request.headers.get("content-type", "")
        )
        if not keep_token:
            values.pop("token", None)
        return values
