"""auth.*, conversations.* and users.* methods of the fake Slack Web API."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from bot.fakes.slack_args import Args, paginate
from bot.fakes.slack_workspace import Channel, SlackApiFailure, Workspace

Handler = Callable[[Workspace, Args], dict[str, Any]]

CHANNEL_NAME_MAX = 80
TOPIC_MAX = 250
_NAME_RE = re.compile(r"^[a-z0-9_-]+$")
_TS_RE = re.compile(r"^\d+\.\d+$")


def auth_test(ws: Workspace, args: Args) -> dict[str, Any]:
    """Describe the token's identity."""
    bot = ws.users[ws.bot_user_id]
    return {
        "url": f"https://{ws.domain}.slack.com/",
        "team": "Fake Workspace",
        "user": bot.name,
        "team_id": ws.team_id,
        "user_id": bot.id,
        "bot_id": ws.bot_id,
        "is_enterprise_install": False,
    }


def _check_name(ws: Workspace, name: str | None) -> str:
    if not name:
        raise SlackApiFailure("invalid_name_required")
    if len(name) > CHANNEL_NAME_MAX:
        raise SlackApiFailure("invalid_name_maxlength")
    if not _NAME_RE.match(name):
        raise SlackApiFailure("invalid_name_specials")
    if not any(ch.isalnum() for ch in name):
        raise SlackApiFailure("invalid_name_punctuation")
    if any(c.name == name for c in ws.channels.values() if not c.is_im):
        raise SlackApiFailure("name_taken")
    return name


def conversations_create(ws: Workspace, args: Args) -> dict[str, Any]:
    """Create a channel with the bot as creator and first member."""
    name = _check_name(ws, args.get("name"))
    channel = ws.add_channel(
        name, creator=ws.bot_user_id, members=[ws.bot_user_id], is_private=args.flag("is_private")
    )
    return {"channel": ws.channel_json(channel)}


def _listed_type(ws: Workspace, channel: Channel) -> str | None:
    if channel.is_im:
        return "im"
    if channel.is_private:
        return "private_channel" if ws.bot_user_id in channel.members else None
    return "public_channel"


def conversations_list(ws: Workspace, args: Args) -> dict[str, Any]:
    """List conversations the bot can see, one cursor page at a time."""
    types = set(args.csv("types") or ["public_channel"])
    exclude_archived = args.flag("exclude_archived")
    found = [
        c
        for c in ws.channels.values()
        if _listed_type(ws, c) in types and not (exclude_archived and c.archived)
    ]
    page, cursor = paginate(found, args)
    return {
        "channels": [_as_seen_by_bot(ws, c) for c in page],
        "response_metadata": {"next_cursor": cursor},
    }


def conversations_info(ws: Workspace, args: Args) -> dict[str, Any]:
    """Return one conversation."""
    return {
        "channel": _as_seen_by_bot(ws, ws.channel(args.require("channel", "channel_not_found")))
    }


def _as_seen_by_bot(ws: Workspace, channel: Channel) -> dict[str, Any]:
    # Slack adds is_member, for the calling user, to conversations.list and .info.
    return {**ws.channel_json(channel), "is_member": ws.bot_user_id in channel.members}


def conversations_join(ws: Workspace, args: Args) -> dict[str, Any]:
    """Add the bot to a public channel."""
    channel = ws.channel(args.require("channel", "channel_not_found"))
    if channel.is_private or channel.is_im:
        raise SlackApiFailure("method_not_supported_for_channel_type")
    if channel.archived:
        raise SlackApiFailure("is_archived")
    if ws.bot_user_id in channel.members:
        return {
            "channel": ws.channel_json(channel),
            "warning": "already_in_channel",
            "response_metadata": {"warnings": ["already_in_channel"]},
        }
    channel.members.append(ws.bot_user_id)
    return {"channel": ws.channel_json(channel)}


def member_channel(ws: Workspace, args: Args) -> Channel:
    """Resolve the `channel` argument to a live channel the bot is a member of."""
    channel = ws.channel(args.require("channel", "channel_not_found"))
    if channel.archived:
        raise SlackApiFailure("is_archived")
    if ws.bot_user_id not in channel.members:
        raise SlackApiFailure("not_in_channel")
    return channel


def conversations_invite(ws: Workspace, args: Args) -> dict[str, Any]:
    """Invite users to a channel; without `force` one invalid user fails the whole call.

    With `force=true` Slack "continues inviting the valid ones while disregarding invalid IDs".
    """
    channel = member_channel(ws, args)
    users = list(dict.fromkeys(args.csv("users")))
    if not users:
        raise SlackApiFailure("no_user")
    if channel.is_im:
        raise SlackApiFailure("method_not_supported_for_channel_type")
    errors: list[dict[str, Any]] = []
    for user_id in users:
        if user_id == ws.bot_user_id:
            errors.append({"user": user_id, "ok": False, "error": "cant_invite_self"})
        elif user_id not in ws.users:
            errors.append({"user": user_id, "ok": False, "error": "user_not_found"})
        elif ws.users[user_id].deleted:
            errors.append({"user": user_id, "ok": False, "error": "user_is_deactivated"})
        elif user_id in channel.members:
            errors.append({"user": user_id, "ok": False, "error": "already_in_channel"})
    valid = [u for u in users if u not in {e["user"] for e in errors}]
    blocking = [e for e in errors if e["error"] != "already_in_channel"]
    if (blocking and not args.flag("force")) or not valid:
        raise SlackApiFailure((blocking or errors)[0]["error"], errors=errors)
    channel.members.extend(valid)
    result: dict[str, Any] = {"channel": ws.channel_json(channel)}
    if errors:
        result["errors"] = errors
    return result


def conversations_members(ws: Workspace, args: Args) -> dict[str, Any]:
    """List a conversation's members, one cursor page at a time."""
    channel = ws.channel(args.require("channel", "channel_not_found"))
    page, cursor = paginate(channel.members, args)
    return {"members": page, "response_metadata": {"next_cursor": cursor}}


def conversations_set_topic(ws: Workspace, args: Args) -> dict[str, Any]:
    """Set a channel's topic (at most 250 characters)."""
    channel = member_channel(ws, args)
    topic = args.get("topic") or ""
    if len(topic) > TOPIC_MAX:
        raise SlackApiFailure("too_long")
    channel.topic, channel.topic_creator, channel.topic_last_set = (
        topic,
        ws.bot_user_id,
        int(time.time()),
    )
    return {"channel": ws.channel_json(channel)}


def conversations_open(ws: Workspace, args: Args) -> dict[str, Any]:
    """Open (or find) the DM between the bot and one user."""
    if args.has("channel"):
        channel = ws.channel(args.require("channel"))
        existed = True
    else:
        users = args.csv("users")
        if not users:
            raise SlackApiFailure("users_list_not_supplied")
        if len(users) > 1:
            raise SlackApiFailure("method_not_supported_for_channel_type")  # no MPIMs in the fake
        channel, existed = ws.open_dm(users[0])
    body: dict[str, Any] = {
        "channel": ws.channel_json(channel) if args.flag("return_im") else {"id": channel.id}
    }
    if existed:
        body.update(no_op=True, already_open=True)
    return body


def _in_window(ts: str, args: Args) -> bool:
    oldest, latest = args.get("oldest"), args.get("latest")
    inclusive = args.flag("inclusive")
    value = float(ts)
    if oldest and (value < float(oldest) or (value == float(oldest) and not inclusive)):
        return False
    return not (latest and (value > float(latest) or (value == float(latest) and not inclusive)))


def _with_metadata(messages: list[dict[str, Any]], args: Args) -> list[dict[str, Any]]:
    """Leave message metadata out unless include_all_metadata is true, as Slack does."""
    if args.flag("include_all_metadata"):
        return messages
    return [{k: v for k, v in m.items() if k != "metadata"} for m in messages]


def conversations_history(ws: Workspace, args: Args) -> dict[str, Any]:
    """Return a channel's top-level messages, newest first."""
    channel = ws.channel(args.require("channel", "channel_not_found"))
    top = [
        m
        for m in reversed(ws.messages[channel.id])
        if m.get("thread_ts") in (None, m["ts"]) and _in_window(m["ts"], args)
    ]
    page, cursor = paginate(top, args)
    return {
        "messages": _with_metadata(page, args),
        "has_more": bool(cursor),
        "pin_count": len(ws.pins[channel.id]),
        "response_metadata": {"next_cursor": cursor},
    }


def conversations_replies(ws: Workspace, args: Args) -> dict[str, Any]:
    """Return a thread: the parent message, then its replies, oldest first."""
    channel = ws.channel(args.require("channel", "channel_not_found"))
    ts = args.require("ts", "thread_not_found")
    if not _TS_RE.match(ts):
        raise SlackApiFailure("thread_not_found")
    try:
        parent = ws.message(channel.id, ts)
    except SlackApiFailure:
        raise SlackApiFailure("thread_not_found") from None
    replies = [m for m in ws.messages[channel.id] if m.get("thread_ts") == ts and m is not parent]
    page, cursor = paginate([parent, *replies], args, default_limit=1000)
    return {
        "messages": _with_metadata(page, args),
        "has_more": bool(cursor),
        "response_metadata": {"next_cursor": cursor},
    }


def users_info(ws: Workspace, args: Args) -> dict[str, Any]:
    """Return one user; its locale only with include_locale=true."""
    user = ws.user(args.require("user", "user_not_found"))
    return {"user": ws.user_json(user, include_locale=args.flag("include_locale"))}


def users_lookup_by_email(ws: Workspace, args: Args) -> dict[str, Any]:
    """Find a user by email address."""
    email = args.require("email", "users_not_found").lower()
    for user in ws.users.values():
        if user.email and user.email.lower() == email:
            return {"user": ws.user_json(user)}
    raise SlackApiFailure("users_not_found")


def users_list(ws: Workspace, args: Args) -> dict[str, Any]:
    """List the workspace's users, one cursor page at a time."""
    page, cursor = paginate(list(ws.users.values()), args, default_limit=200)
    return {
        "members": [ws.user_json(u) for u in page],
        "cache_ts": int(time.time()),
        "response_metadata": {"next_cursor": cursor},
    }


def usergroups_list(ws: Workspace, args: Args) -> dict[str, Any]:
    """List the workspace's user groups (with their members when include_users is set)."""
    groups = []
    for group in ws.user_groups.values():
        shown = {k: v for k, v in group.items() if k != "users"}
        shown["user_count"] = len(group["users"])
        if args.flag("include_users"):
            shown["users"] = list(group["users"])
        groups.append(shown)
    return {"usergroups": groups}


def usergroups_users_list(ws: Workspace, args: Args) -> dict[str, Any]:
    """List the members of one user group (by its id, as Slack requires)."""
    group = ws.user_groups.get(args.require("usergroup", "no_such_subteam"))
    if group is None:
        raise SlackApiFailure("no_such_subteam")
    return {"users": list(group["users"])}


METHODS: dict[str, Handler] = {
    "auth.test": auth_test,
    "conversations.create": conversations_create,
    "conversations.list": conversations_list,
    "conversations.info": conversations_info,
    "conversations.join": conversations_join,
    "conversations.invite": conversations_invite,
    "conversations.members": conversations_members,
    "conversations.setTopic": conversations_set_topic,
    "conversations.open": conversations_open,
    "conversations.history": conversations_history,
    "conversations.replies": conversations_replies,
    "users.info": users_info,
    "users.lookupByEmail": users_lookup_by_email,
    "users.list": users_list,
    "usergroups.list": usergroups_list,
    "usergroups.users.list": usergroups_users_list,
}
