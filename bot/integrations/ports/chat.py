"""What the domain asks of Slack: ChatPort (the outbox's tagged posts included), IncidentPresenter.

bot.integrations.slack.SlackAdapter implements ChatPort;
bot.slack.presenter renders incidents. Failures raise bot.integrations.ports.errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from bot.incidents.domain import IncidentSnapshot


@dataclass(frozen=True)
class ChatUser:
    """A Slack user as the domain needs it."""

    id: str
    name: str
    email: str | None
    tz: str | None
    is_bot: bool = False


@dataclass(frozen=True)
class FileShare:
    """A file to share in a channel (for example an .ics invitation)."""

    filename: str
    content: bytes
    title: str
    initial_comment: str | None = None


@dataclass(frozen=True)
class ChatMessage:
    """A message read back from a channel."""

    ts: str
    user: str | None
    text: str
    subtype: str | None = None
    bot_id: str | None = None


@dataclass(frozen=True)
class Posted:
    """Where a message landed."""

    channel_id: str
    ts: str


@dataclass(frozen=True)
class ChannelInfo:
    """A channel found by name."""

    id: str
    name: str
    creator: str | None


class ChatPort(Protocol):
    """Slack, as seen by the domain. Blocks are plain dicts built by bot.slack.blocks."""

    def bot_user_id(self) -> str:
        """Return the bot's own user id."""
        ...

    def identity(self) -> dict[str, str]:
        """Return the bot's identity (user_id, bot_id, team_id, enterprise_id), cached."""
        ...

    def user_locale(self, user_id: str) -> str | None:
        """Return a user's Slack locale ('ko-KR'), or None when Slack does not say."""
        ...

    def find_channel(self, name: str, *, private: bool = False) -> ChannelInfo | None:
        """Find a channel by exact name, or None."""
        ...

    def user_group_members(self, group: str) -> list[str]:
        """Return the members of a user group given by id or handle."""
        ...

    def create_channel(self, name: str, *, private: bool = False) -> str:
        """Create a public channel and return its id; raise ChatError('name_taken') if taken."""
        ...

    def resolve_channel(self, name_or_id: str) -> str:
        """Return the id of a channel given by name or id, joining it if needed."""
        ...

    def invite(self, channel: str, user_ids: list[str]) -> list[str]:
        """Invite users to a channel; return those Slack refused (unknown, deactivated)."""
        ...

    def set_topic(self, channel: str, topic: str) -> None:
        """Set a channel's topic."""
        ...

    def post_message(
        self,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
    ) -> str:
        """Post a message and return its ts."""
        ...

    def update_message(
        self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]] | None = None
    ) -> None:
        """Edit a message in place."""
        ...

    def post_ephemeral(
        self, channel: str, user: str, text: str, blocks: list[dict[str, Any]] | None = None
    ) -> None:
        """Post a message only one user sees."""
        ...

    def send_dm(self, user: str, text: str, blocks: list[dict[str, Any]] | None = None) -> str:
        """Send a direct message and return its ts."""
        ...

    def pin(self, channel: str, ts: str) -> None:
        """Pin a message (already pinned is fine)."""
        ...

    def get_message(self, channel: str, ts: str) -> ChatMessage | None:
        """Read one message back, or None if it is gone."""
        ...

    def recent_messages(self, channel: str, limit: int) -> list[ChatMessage]:
        """Return the newest messages of a channel, newest first."""
        ...

    def permalink(self, channel: str, ts: str) -> str | None:
        """Return a message's permalink, or None if Slack cannot give one."""
        ...

    def user(self, user_id: str) -> ChatUser:
        """Return a user's profile."""
        ...

    def user_by_email(self, email: str) -> ChatUser | None:
        """Find a user by email, or None."""
        ...

    def channel_members(self, channel: str) -> list[str]:
        """Return the ids of a channel's members."""
        ...

    def share_file(self, channel: str, file: FileShare, thread_ts: str | None = None) -> None:
        """Upload a file into a channel."""
        ...

    def open_view(self, trigger_id: str, view: dict[str, Any]) -> str:
        """Open a modal and return its view id."""
        ...

    def publish_home(self, user_id: str, view: dict[str, Any]) -> None:
        """Publish a user's App Home tab."""
        ...

    # Posts the outbox makes: tagged with their idempotency key, so a crash never repeats one.

    def channel_for(self, target: str) -> str:
        """Return the conversation id of a channel id or name, or of a user's DM."""
        ...

    def post_tagged(
        self,
        channel_id: str,
        text: str,
        blocks: list[dict[str, Any]],
        *,
        key: str,
        thread_ts: str | None = None,
    ) -> Posted:
        """Post a message tagged with its key."""
        ...

    def share_tagged(
        self, channel_id: str, file: FileShare, *, thread_ts: str | None = None
    ) -> None:
        """Upload a file whose name is unique to this side effect."""
        ...

    def find_tagged(
        self, channel_id: str, key: str, *, oldest: float, thread_ts: str | None = None
    ) -> str | None:
        """Return the ts of a message tagged with key since oldest, or None."""
        ...

    def find_file(
        self, channel_id: str, file_name: str, *, oldest: float, thread_ts: str | None = None
    ) -> str | None:
        """Return the ts of a message sharing a file of this name since oldest, or None."""
        ...


@dataclass(frozen=True)
class Message:
    """A rendered chat message: fallback text plus Block Kit blocks."""

    text: str
    blocks: list[dict[str, Any]] | None = None


class IncidentPresenter(Protocol):
    """Renders incident messages for the chat tool (implemented by bot.slack.presenter)."""

    def kickoff(self, incident: IncidentSnapshot) -> Message:
        """Render the pinned kickoff message."""
        ...

    def announcement(self, incident: IncidentSnapshot) -> Message:
        """Render the announcement in the incidents channel."""
        ...

    def topic(self, incident: IncidentSnapshot) -> str:
        """Render the channel topic."""
        ...

    def status_update(self, incident: IncidentSnapshot, text: str, author_id: str) -> Message:
        """Render a posted status update."""
        ...

    def change_notice(self, incident: IncidentSnapshot, change: str, actor_id: str) -> Message:
        """Render a notice that something changed (severity, status, role...)."""
        ...

    def resolved_summary(
        self, incident: IncidentSnapshot, highest_severity: str, duration_seconds: float
    ) -> Message:
        """Render the summary posted on resolve."""
        ...

    def setup_problem(self, incident: IncidentSnapshot, problem: str, final: bool) -> Message:
        """Render a message telling the reporter that channel setup hit a problem."""
        ...
