"""The Slack adapter: the ChatPort over slack_sdk's WebClient, with Slack's own retry handlers."""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import structlog
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.integrations.ports import (
    AuthError,
    ChannelInfo,
    ChatError,
    ChatMessage,
    ChatUser,
    FileShare,
    IntegrationError,
    Unavailable,
)
from bot.integrations.slack_metadata import TaggedPosts
from bot.observability.vendor import vendor_call
from bot.settings import Settings

log = structlog.get_logger(__name__)
T = TypeVar("T")

_AUTH_ERRORS = {"not_authed", "invalid_auth", "account_inactive", "token_revoked", "missing_scope"}


def slack_outcome(exc: BaseException) -> str:
    """Classify a failed Web API call for the vendor metrics."""
    if isinstance(exc, SlackApiError):
        return "ratelimited" if exc.response.status_code == 429 else "error"
    if isinstance(exc, TimeoutError) or "timed out" in str(exc):
        return "timeout"
    return "error"


class InstrumentedWebClient(WebClient):
    """A WebClient whose every Web API call (retries included) is timed, counted and traced."""

    def api_call(self, api_method: str, **kwargs: Any) -> Any:  # type: ignore[override]
        """Call a Web API method inside the vendor-call wrapper."""
        with vendor_call("slack", api_method, slack_outcome):
            return super().api_call(api_method, **kwargs)


def make_web_client(settings: Settings) -> WebClient:
    """Build the WebClient (shared with Bolt) with rate-limit, 5xx and connection retries."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return InstrumentedWebClient(
        token=token,
        base_url=settings.slack_api_url,
        timeout=int(settings.slack_timeout.total_seconds()),
        retry_handlers=[
            RateLimitErrorRetryHandler(max_retry_count=5),
            ServerErrorRetryHandler(max_retry_count=3),
            ConnectionErrorRetryHandler(max_retry_count=3),
        ],
    )


@contextmanager
def translated(method: str) -> Iterator[None]:
    try:
        yield
    except SlackApiError as exc:
        code = str(exc.response.get("error", "unknown_error"))
        if exc.response.status_code == 429:
            raise Unavailable(f"Slack kept rate limiting {method}") from exc
        if exc.response.status_code >= 500:
            raise Unavailable(f"Slack answered {exc.response.status_code} to {method}") from exc
        if code in _AUTH_ERRORS:
            raise AuthError(f"Slack refused the bot token ({code}) on {method}") from exc
        raise ChatError(code, f"Slack {method} failed: {code}") from exc
    except (SlackClientError, OSError) as exc:
        raise Unavailable(f"Slack could not be reached for {method}: {exc}") from exc


_INVITE_SKIPPABLE = {
    "already_in_channel",
    "cant_invite_self",
    "user_not_found",
    "user_is_deactivated",
    "cant_invite",
    "ura_max_channels",
}


_GROUP_ID = re.compile(r"^S[A-Z0-9]+$")


class SlackAdapter(TaggedPosts):
    """Implements ChatPort with slack_sdk (tagged posts: bot/integrations/slack_metadata.py)."""

    def __init__(self, client: WebClient) -> None:
        self.client = client
        self._identity: dict[str, str] | None = None
        self._lock = threading.Lock()

    def _call(self, method: str, fn: Callable[[], T]) -> T:
        """Call the Web API, turning its errors into ours."""
        with translated(method):
            return fn()

    def identity(self) -> dict[str, str]:
        """Return the bot's identity from auth.test (user_id, bot_id, team_id), cached."""
        with self._lock:
            if self._identity is None:
                response = self._call("auth.test", self.client.auth_test)
                self._identity = {
                    key: str(response.get(key) or "")
                    for key in ("user_id", "bot_id", "team_id", "enterprise_id")
                }
            return self._identity

    def bot_user_id(self) -> str:
        """Return the bot's own user id (auth.test, cached)."""
        return self.identity()["user_id"]

    def create_channel(self, name: str, *, private: bool = False) -> str:
        """Create a public (or private) channel and return its id."""
        response = self._call(
            "conversations.create",
            lambda: self.client.conversations_create(name=name, is_private=private),
        )
        return str(response["channel"]["id"])

    def _iter_channels(self, types: str = "public_channel") -> Iterator[dict[str, Any]]:
        cursor = None
        while True:
            page = self._call(
                "conversations.list",
                functools.partial(
                    self.client.conversations_list,
                    types=types,
                    exclude_archived=True,
                    limit=1000,
                    cursor=cursor,
                ),
            )
            yield from page["channels"]
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return

    def find_channel(self, name: str, *, private: bool = False) -> ChannelInfo | None:
        """Find a public channel (or a private one the bot is in) by exact name."""
        wanted = name.lstrip("#")
        types = "public_channel,private_channel" if private else "public_channel"
        for channel in self._iter_channels(types):
            if channel.get("name") == wanted:
                return ChannelInfo(channel["id"], channel["name"], channel.get("creator"))
        return None

    def resolve_channel(self, name_or_id: str) -> str:
        """Return a channel id for a name or id, joining it when the bot is not a member."""
        value = name_or_id.lstrip("#")
        if value[:1] in {"C", "G"} and value[1:].isalnum() and value.upper() == value:
            channel_id = value
        else:
            found = self.find_channel(value)
            if found is None:
                raise ChatError("channel_not_found", f"No public channel is named #{value}")
            channel_id = found.id
        try:
            self._call(
                "conversations.join", lambda: self.client.conversations_join(channel=channel_id)
            )
        except ChatError as exc:
            if exc.code not in {"method_not_supported_for_channel_type", "already_in_channel"}:
                raise
        return channel_id

    def invite(self, channel: str, user_ids: list[str]) -> list[str]:
        """Invite users (force: one unknown or deactivated user does not block the others).

        Returns the ids Slack refused for good (not found, deactivated...); users already in
        the channel are not refusals.
        """
        try:
            response = self._call(
                "conversations.invite",
                functools.partial(
                    self.client.conversations_invite,
                    channel=channel,
                    users=",".join(user_ids),
                    force=True,
                ),
            )
            errors = response.get("errors") or []
        except ChatError as exc:
            if exc.code not in _INVITE_SKIPPABLE:
                raise
            errors = [{"user": u, "error": exc.code} for u in user_ids]
        return [
            str(e.get("user"))
            for e in errors
            if e.get("error") not in {"already_in_channel", "cant_invite_self"}
        ]

    def set_topic(self, channel: str, topic: str) -> None:
        """Set a channel topic."""
        self._call(
            "conversations.setTopic",
            lambda: self.client.conversations_setTopic(channel=channel, topic=topic[:250]),
        )

    def post_message(
        self,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
    ) -> str:
        """Post a message and return its ts."""
        response = self._call(
            "chat.postMessage",
            lambda: self.client.chat_postMessage(
                channel=channel, text=text, blocks=blocks, thread_ts=thread_ts, unfurl_links=False
            ),
        )
        return str(response["ts"])

    def update_message(
        self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]] | None = None
    ) -> None:
        """Edit a message in place."""
        self._call(
            "chat.update",
            lambda: self.client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks),
        )

    def post_ephemeral(
        self, channel: str, user: str, text: str, blocks: list[dict[str, Any]] | None = None
    ) -> None:
        """Post a message only one user sees."""
        self._call(
            "chat.postEphemeral",
            lambda: self.client.chat_postEphemeral(
                channel=channel, user=user, text=text, blocks=blocks
            ),
        )

    def send_dm(self, user: str, text: str, blocks: list[dict[str, Any]] | None = None) -> str:
        """Open a DM with a user and post into it."""
        opened = self._call(
            "conversations.open", lambda: self.client.conversations_open(users=user)
        )
        return self.post_message(str(opened["channel"]["id"]), text, blocks)

    def pin(self, channel: str, ts: str) -> None:
        """Pin a message; already pinned is fine."""
        try:
            self._call("pins.add", lambda: self.client.pins_add(channel=channel, timestamp=ts))
        except ChatError as exc:
            if exc.code != "already_pinned":
                raise

    def get_message(self, channel: str, ts: str) -> ChatMessage | None:
        """Read one message back by ts."""
        response = self._call(
            "conversations.history",
            lambda: self.client.conversations_history(
                channel=channel, latest=ts, oldest=ts, inclusive=True, limit=1
            ),
        )
        for message in response.get("messages") or []:
            if message.get("ts") == ts:
                return ChatMessage(ts=ts, user=message.get("user"), text=message.get("text", ""))
        return None

    def recent_messages(self, channel: str, limit: int) -> list[ChatMessage]:
        """Return the newest messages of a channel, newest first (one page)."""
        response = self._call(
            "conversations.history",
            functools.partial(self.client.conversations_history, channel=channel, limit=limit),
        )
        return [
            ChatMessage(
                ts=str(message["ts"]),
                user=message.get("user"),
                text=message.get("text", ""),
                subtype=message.get("subtype"),
                bot_id=message.get("bot_id"),
            )
            for message in response.get("messages") or []
            if message.get("ts")
        ]

    def permalink(self, channel: str, ts: str) -> str | None:
        """Return a message permalink, or None when Slack cannot give one."""
        try:
            response = self._call(
                "chat.getPermalink",
                lambda: self.client.chat_getPermalink(channel=channel, message_ts=ts),
            )
        except IntegrationError:  # a link is nice to have; the entry matters more
            return None
        return str(response["permalink"])

    def user(self, user_id: str) -> ChatUser:
        """Return a user's profile."""
        response = self._call("users.info", lambda: self.client.users_info(user=user_id))
        return _chat_user(response["user"])

    def user_locale(self, user_id: str) -> str | None:
        """Return a user's Slack locale ('ko-KR'), from users.info with include_locale."""
        response = self._call(
            "users.info", lambda: self.client.users_info(user=user_id, include_locale=True)
        )
        locale = response["user"].get("locale")
        return str(locale) if locale else None

    def user_by_email(self, email: str) -> ChatUser | None:
        """Find a user by email."""
        try:
            response = self._call(
                "users.lookupByEmail", lambda: self.client.users_lookupByEmail(email=email)
            )
        except ChatError as exc:
            if exc.code == "users_not_found":
                return None
            raise
        return _chat_user(response["user"])

    def channel_members(self, channel: str) -> list[str]:
        """Return every member id of a channel."""
        members: list[str] = []
        cursor = None
        while True:
            page = self._call(
                "conversations.members",
                functools.partial(
                    self.client.conversations_members, channel=channel, limit=1000, cursor=cursor
                ),
            )
            members.extend(page["members"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return members

    def user_group_members(self, group: str) -> list[str]:
        """Return the members of a user group given by id (S…) or handle (@security)."""
        group_id = group
        if not _GROUP_ID.match(group):
            handle = group.lstrip("@")
            listed = self._call("usergroups.list", lambda: self.client.usergroups_list())
            groups: list[dict[str, Any]] = listed.get("usergroups") or []
            found = [g["id"] for g in groups if g.get("handle") == handle]
            if not found:
                raise ChatError("no_such_subteam", f"No user group has the handle @{handle}")
            group_id = found[0]
        response = self._call(
            "usergroups.users.list",
            lambda: self.client.usergroups_users_list(usergroup=group_id),
        )
        users: list[str] = response.get("users") or []
        return [str(user) for user in users]

    def share_file(self, channel: str, file: FileShare, thread_ts: str | None = None) -> None:
        """Upload a file into a channel (files.uploadV2 flow)."""
        self._call(
            "files.uploadV2",
            lambda: self.client.files_upload_v2(
                channel=channel,
                content=file.content,
                filename=file.filename,
                title=file.title,
                initial_comment=file.initial_comment,
                thread_ts=thread_ts,
            ),
        )

    def open_view(self, trigger_id: str, view: dict[str, Any]) -> str:
        """Open a modal and return its view id."""
        response = self._call(
            "views.open", lambda: self.client.views_open(trigger_id=trigger_id, view=view)
        )
        return str(response["view"]["id"])

    def publish_home(self, user_id: str, view: dict[str, Any]) -> None:
        """Publish a user's App Home."""
        self._call("views.publish", lambda: self.client.views_publish(user_id=user_id, view=view))


def _chat_user(data: dict[str, Any]) -> ChatUser:
    profile = data.get("profile") or {}
    return ChatUser(
        id=data["id"],
        name=profile.get("display_name") or data.get("real_name") or data.get("name") or data["id"],
        email=profile.get("email"),
        tz=data.get("tz"),
        is_bot=bool(data.get("is_bot")),
    )
