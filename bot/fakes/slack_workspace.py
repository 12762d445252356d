"""In-memory Slack workspace behind FakeSlack: users, channels, messages, pins, views, files.

Not thread-safe by itself: FakeSlack holds its lock around every call into it. Objects are
rendered in the shapes the Web API returns (docs.slack.dev, "Reference: methods").
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class SlackApiFailure(Exception):
    """An `ok: false` answer: the Slack error code plus any extra response fields."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra

    def body(self) -> dict[str, Any]:
        """Return the response body Slack sends for this error."""
        return {"ok": False, "error": self.error, **self.extra}


def invalid(error: str, messages: list[str]) -> SlackApiFailure:
    """Build an error that explains itself in response_metadata.messages, as Slack does."""
    return SlackApiFailure(
        error, response_metadata={"messages": [f"[ERROR] {m}" for m in messages]}
    )


@dataclass
class User:
    """A workspace member (human or bot)."""

    id: str
    name: str
    real_name: str
    email: str | None = None
    tz: str = "UTC"
    is_bot: bool = False
    bot_id: str | None = None
    display_name: str = ""
    deleted: bool = False
    locale: str = "en-US"


@dataclass
class Channel:
    """A public or private channel, or a DM (is_im)."""

    id: str
    name: str
    creator: str
    created: int
    members: list[str] = field(default_factory=list)
    topic: str = ""
    topic_creator: str = ""
    topic_last_set: int = 0
    purpose: str = ""
    is_private: bool = False
    is_im: bool = False
    archived: bool = False
    dm_user: str | None = None


@dataclass
class File:
    """An uploaded file (files.getUploadURLExternal flow)."""

    id: str
    name: str
    length: int
    user: str
    created: int
    title: str = ""
    alt_txt: str | None = None
    content: bytes | None = None
    channels: list[str] = field(default_factory=list)


class Workspace:
    """The state of one fake Slack workspace."""

    def __init__(self, *, team_id: str, bot_name: str = "sevbot") -> None:
        self.team_id = team_id
        self.domain = "fake"
        self._counters: dict[str, int] = {}
        self._last_ts = (0, 0)
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.ephemeral: dict[str, list[dict[str, Any]]] = {}
        self.pins: dict[str, list[str]] = {}
        self.views: dict[str, dict[str, Any]] = {}
        self.files: dict[str, File] = {}
        self.upload_keys: dict[str, str] = {}
        self.used_triggers: set[str] = set()
        self.expired_triggers: set[str] = set()
        self.home_views: dict[str, str] = {}
        # User groups (subteams): id -> {"id", "handle", "name", "users"}.
        self.user_groups: dict[str, dict[str, Any]] = {}
        self.upload_base = ""
        self.app_id = self.new_id("A")
        bot_id = self.new_id("B")
        self.bot_user_id = self.add_user(bot_name, is_bot=True, bot_id=bot_id)
        self.bot_id = bot_id

    # ---- ids -------------------------------------------------------------
    def new_id(self, prefix: str) -> str:
        """Return a fresh Slack-looking ID such as C07Q3M2KX1A (deterministic per workspace)."""
        # one counter for every kind, so no two objects share digits (U… and C… never look alike)
        n = self._counters.get("", 0) + 1
        self._counters[""] = n
        value, digits = 120_000_000_000_000 + n * 7_919_000_003, ""
        while value:
            value, rest = divmod(value, 36)
            digits = _ALPHABET[rest] + digits
        return prefix + digits.rjust(10, "0")[-10:]

    def new_ts(self) -> str:
        """Return a message timestamp ("1700000000.000100") later than every previous one."""
        now = time.time()
        candidate = (int(now), int((now % 1) * 1_000_000))
        if candidate <= self._last_ts:
            seconds, micros = self._last_ts
            candidate = (seconds + 1, 0) if micros >= 999_999 else (seconds, micros + 1)
        self._last_ts = candidate
        return f"{candidate[0]}.{candidate[1]:06d}"

    # ---- users -----------------------------------------------------------
    def add_user(
        self,
        name: str,
        *,
        email: str | None = None,
        tz: str = "UTC",
        is_bot: bool = False,
        bot_id: str | None = None,
        real_name: str | None = None,
        locale: str = "en-US",
    ) -> str:
        """Create a user and return its U… ID."""
        ZoneInfo(tz)  # reject unknown time zones when seeding, not when serving
        user_id = self.new_id("U")
        self.users[user_id] = User(
            id=user_id,
            name=name,
            real_name=real_name or name.replace(".", " ").title(),
            email=email,
            tz=tz,
            is_bot=is_bot,
            bot_id=bot_id,
            display_name=name,
            locale=locale,
        )
        return user_id

    def user(self, user_id: str) -> User:
        """Return a user or fail with user_not_found."""
        found = self.users.get(user_id)
        if found is None:
            raise SlackApiFailure("user_not_found")
        return found

    def user_json(self, user: User, *, include_locale: bool = False) -> dict[str, Any]:
        """Render a user object as users.info returns it (locale only when asked for)."""
        now = datetime.now(ZoneInfo(user.tz))
        offset = now.utcoffset()
        profile: dict[str, Any] = {
            "real_name": user.real_name,
            "real_name_normalized": user.real_name,
            "display_name": user.display_name,
            "display_name_normalized": user.display_name,
            "team": self.team_id,
        }
        if user.email:
            profile["email"] = user.email
        if user.bot_id:
            profile["bot_id"] = user.bot_id
        extra = {"locale": user.locale} if include_locale else {}
        return {
            **extra,
            "id": user.id,
            "team_id": self.team_id,
            "name": user.name,
            "deleted": user.deleted,
            "real_name": user.real_name,
            "tz": user.tz,
            "tz_label": now.tzname() or user.tz,
            "tz_offset": int(offset.total_seconds()) if offset else 0,
            "profile": profile,
            "is_admin": False,
            "is_owner": False,
            "is_bot": user.is_bot,
            "is_app_user": False,
            "updated": int(time.time()),
        }

    # ---- channels --------------------------------------------------------
    def add_channel(
        self, name: str, *, creator: str, members: list[str], is_private: bool = False
    ) -> Channel:
        """Create a channel (no name validation: that belongs to conversations.create)."""
        channel = Channel(
            id=self.new_id("C"),
            name=name,
            creator=creator,
            created=int(time.time()),
            members=list(dict.fromkeys(members)),
            is_private=is_private,
        )
        self.channels[channel.id] = channel
        self.messages[channel.id] = []
        self.pins[channel.id] = []
        return channel

    def open_dm(self, user_id: str) -> tuple[Channel, bool]:
        """Return the DM channel between the bot and a user, and whether it already existed."""
        for channel in self.channels.values():
            if channel.is_im and channel.dm_user == user_id:
                return channel, True
        self.user(user_id)
        channel = Channel(
            id=self.new_id("D"),
            name=user_id,
            creator=self.bot_user_id,
            created=int(time.time()),
            members=[self.bot_user_id, user_id],
            is_im=True,
            dm_user=user_id,
        )
        self.channels[channel.id] = channel
        self.messages[channel.id] = []
        self.pins[channel.id] = []
        return channel, False

    def find_channel(self, ref: str) -> Channel | None:
        """Find a channel by ID, by name or by "#name"."""
        if ref in self.channels:
            return self.channels[ref]
        name = ref.removeprefix("#")
        for channel in self.channels.values():
            if not channel.is_im and channel.name == name:
                return channel
        return None

    def channel(self, ref: str) -> Channel:
        """Return a channel the bot can see, or fail with channel_not_found."""
        found = self.find_channel(ref)
        if found is None or (found.is_private and self.bot_user_id not in found.members):
            raise SlackApiFailure("channel_not_found")
        return found

    def channel_json(self, channel: Channel) -> dict[str, Any]:
        """Render a conversation object as conversations.info returns it."""
        if channel.is_im:
            return {
                "id": channel.id,
                "created": channel.created,
                "is_im": True,
                "is_org_shared": False,
                "user": channel.dm_user,
                "is_user_deleted": False,
                "priority": 0,
            }
        return {
            "id": channel.id,
            "name": channel.name,
            "name_normalized": channel.name,
            "is_channel": not channel.is_private,
            "is_group": False,
            "is_im": False,
            "is_mpim": False,
            "is_private": channel.is_private,
            "created": channel.created,
            "creator": channel.creator,
            "is_archived": channel.archived,
            "is_general": False,
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "is_member": self.bot_user_id in channel.members,
            "context_team_id": self.team_id,
            "topic": {
                "value": channel.topic,
                "creator": channel.topic_creator,
                "last_set": channel.topic_last_set,
            },
            "purpose": {"value": channel.purpose, "creator": "", "last_set": 0},
            "previous_names": [],
            "num_members": len(channel.members),
        }

    # ---- messages --------------------------------------------------------
    def message(self, channel_id: str, ts: str) -> dict[str, Any]:
        """Return a stored message or fail with message_not_found."""
        for message in self.messages.get(channel_id, []):
            if message["ts"] == ts:
                return message
        raise SlackApiFailure("message_not_found")

    def permalink(self, channel_id: str, message: dict[str, Any]) -> str:
        """Return the message's permalink in Slack's archives format."""
        compact = message["ts"].replace(".", "")
        link = f"https://{self.domain}.slack.com/archives/{channel_id}/p{compact}"
        thread_ts = message.get("thread_ts")
        if thread_ts and thread_ts != message["ts"]:
            link += f"?thread_ts={thread_ts}&cid={channel_id}"
        return link

    def file_json(self, file: File) -> dict[str, Any]:
        """Render a file object as files.info and files.completeUploadExternal return it."""
        base = f"https://files.{self.domain}.slack.com/files-pri/{self.team_id}-{file.id}"
        return {
            "id": file.id,
            "created": file.created,
            "timestamp": file.created,
            "name": file.name,
            "title": file.title or file.name,
            "mimetype": "application/octet-stream",
            "filetype": file.name.rsplit(".", 1)[-1] if "." in file.name else "binary",
            "user": file.user,
            "user_team": self.team_id,
            "size": file.length,
            "mode": "hosted",
            "is_external": False,
            "is_public": any(not self.channels[c].is_private for c in file.channels),
            "url_private": f"{base}/{file.name}",
            "url_private_download": f"{base}/download/{file.name}",
            "permalink": f"https://{self.domain}.slack.com/files/{file.user}/{file.id}/{file.name}",
            "channels": [c for c in file.channels if not self.channels[c].is_private],
            "groups": [c for c in file.channels if self.channels[c].is_private],
            "ims": [],
            "alt_txt": file.alt_txt,
        }
