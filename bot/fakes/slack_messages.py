"""chat.*, pins.*, reactions.* and files.* methods of the fake Slack Web API."""

from __future__ import annotations

import copy
import re
import time
from typing import Any

from bot.fakes.slack_args import Args
from bot.fakes.slack_blocks import MESSAGE_MAX_BLOCKS, validate_blocks
from bot.fakes.slack_conversations import Handler, member_channel
from bot.fakes.slack_workspace import Channel, File, SlackApiFailure, Workspace, invalid

TEXT_MAX = 40_000
_TS_RE = re.compile(r"^\d+\.\d+$")


def _target(ws: Workspace, args: Args) -> Channel:
    """Resolve `channel` (ID, name, or a user ID for the DM) to a channel the bot may post in."""
    ref = args.require("channel", "channel_not_found")
    if ref[:1] in ("U", "W") and ref in ws.users:
        return ws.open_dm(ref)[0]
    channel = ws.channel(ref)
    if channel.archived:
        raise SlackApiFailure("is_archived")
    if ws.bot_user_id not in channel.members:
        raise SlackApiFailure("not_in_channel")
    return channel


def _content(args: Args, *, required: bool) -> dict[str, Any]:
    """Validate text, blocks and attachments the way chat.postMessage and chat.update do."""
    content: dict[str, Any] = {}
    text = args.get("text")
    if text is not None:
        if len(text) > TEXT_MAX:
            raise SlackApiFailure("msg_too_long")
        content["text"] = text
    if args.has("blocks"):
        blocks = args.raw("blocks")
        if not isinstance(blocks, list):
            raise SlackApiFailure("invalid_blocks_format")
        errors = validate_blocks(blocks, pointer="/blocks", max_blocks=MESSAGE_MAX_BLOCKS)
        if errors:
            raise invalid("invalid_blocks", errors)
        content["blocks"] = blocks
    if args.has("attachments"):
        if not isinstance(args.raw("attachments"), list):
            raise SlackApiFailure("invalid_attachments")
        content["attachments"] = args.raw("attachments")
    if required and not content:
        raise SlackApiFailure("no_text")
    if args.has("metadata"):
        content["metadata"] = _metadata(args.raw("metadata"))
    return content


def _metadata(value: Any) -> dict[str, Any]:
    """Validate message metadata: {"event_type": str, "event_payload": object}."""
    if not isinstance(value, dict):
        raise SlackApiFailure("invalid_metadata_format")
    event_type, payload = value.get("event_type"), value.get("event_payload")
    if not isinstance(event_type, str) or not event_type or not isinstance(payload, dict):
        raise SlackApiFailure("invalid_metadata_schema")
    return {"event_type": event_type, "event_payload": copy.deepcopy(payload)}


def _thread_ts(args: Args) -> str | None:
    thread_ts = args.get("thread_ts")
    if thread_ts is not None and not _TS_RE.match(thread_ts):
        raise SlackApiFailure(
            "invalid_thread_ts",
            response_metadata={"messages": [f"[ERROR] {thread_ts} is not a valid thread_ts"]},
        )
    return thread_ts


def post(
    ws: Workspace, channel: Channel, content: dict[str, Any], thread_ts: str | None
) -> dict[str, Any]:
    """Store a message from the bot and update its thread parent."""
    message: dict[str, Any] = {
        "type": "message",
        "user": ws.bot_user_id,
        "bot_id": ws.bot_id,
        "app_id": ws.app_id,
        "team": ws.team_id,
        "text": content.get("text", ""),
        "ts": ws.new_ts(),
        "bot_profile": {"id": ws.bot_id, "app_id": ws.app_id, "name": "sevbot"},
        **{k: v for k, v in content.items() if k != "text"},
    }
    if thread_ts:
        message["thread_ts"] = thread_ts
        for parent in ws.messages[channel.id]:
            if parent["ts"] == thread_ts:
                parent["thread_ts"] = thread_ts
                parent["reply_count"] = parent.get("reply_count", 0) + 1
                users = parent.setdefault("reply_users", [])
                if ws.bot_user_id not in users:
                    users.append(ws.bot_user_id)
                parent["latest_reply"] = message["ts"]
    ws.messages[channel.id].append(message)
    return message


def chat_post_message(ws: Workspace, args: Args) -> dict[str, Any]:
    """Post a message as the bot."""
    channel = _target(ws, args)
    content = _content(args, required=True)
    message = post(ws, channel, content, _thread_ts(args))
    return {"channel": channel.id, "ts": message["ts"], "message": copy.deepcopy(message)}


def chat_update(ws: Workspace, args: Args) -> dict[str, Any]:
    """Edit a message the bot posted."""
    channel = ws.channel(args.require("channel", "channel_not_found"))
    message = ws.message(channel.id, args.require("ts", "message_not_found"))
    if message.get("bot_id") != ws.bot_id:
        raise SlackApiFailure("cant_update_message")
    if channel.archived:
        raise SlackApiFailure("is_archived")
    content = _content(args, required=True)
    message.update(content)
    message["edited"] = {"user": ws.bot_user_id, "ts": ws.new_ts()}
    return {
        "channel": channel.id,
        "ts": message["ts"],
        "text": message["text"],
        "message": copy.deepcopy(message),
    }


def chat_post_ephemeral(ws: Workspace, args: Args) -> dict[str, Any]:
    """Show a message to one member of a channel."""
    channel = _target(ws, args)
    user_id = args.require("user", "user_not_found")
    ws.user(user_id)
    if user_id not in channel.members:
        raise SlackApiFailure("user_not_in_channel")
    content = _content(args, required=True)
    ts = ws.new_ts()
    ws.ephemeral.setdefault(channel.id, []).append(
        {"type": "message", "user": user_id, "ts": ts, "thread_ts": _thread_ts(args), **content}
    )
    return {"message_ts": ts}


def chat_get_permalink(ws: Workspace, args: Args) -> dict[str, Any]:
    """Return a message's permalink."""
    channel = ws.channel(args.require("channel", "channel_not_found"))
    message = ws.message(channel.id, args.require("message_ts", "message_not_found"))
    return {"channel": channel.id, "permalink": ws.permalink(channel.id, message)}


def pins_add(ws: Workspace, args: Args) -> dict[str, Any]:
    """Pin a message to its channel."""
    channel = member_channel(ws, args)
    ts = args.require("timestamp", "no_item_specified")
    message = ws.message(channel.id, ts)
    if ts in ws.pins[channel.id]:
        raise SlackApiFailure("already_pinned")
    ws.pins[channel.id].append(ts)
    message.setdefault("pinned_to", []).append(channel.id)
    return {}


def pins_list(ws: Workspace, args: Args) -> dict[str, Any]:
    """List a channel's pinned messages."""
    channel = ws.channel(args.require("channel", "channel_not_found"))
    items = [
        {
            "type": "message",
            "channel": channel.id,
            "created": int(float(ts)),
            "created_by": ws.bot_user_id,
            "message": copy.deepcopy(ws.message(channel.id, ts)),
        }
        for ts in ws.pins[channel.id]
    ]
    return {"items": items}


def reactions_add(ws: Workspace, args: Args) -> dict[str, Any]:
    """Add the bot's emoji reaction to a message."""
    channel = ws.channel(args.require("channel", "channel_not_found"))
    name = args.require("name", "invalid_name").strip(":")
    message = ws.message(channel.id, args.require("timestamp", "no_item_specified"))
    reactions = message.setdefault("reactions", [])
    for reaction in reactions:
        if reaction["name"] == name:
            if ws.bot_user_id in reaction["users"]:
                raise SlackApiFailure("already_reacted")
            reaction["users"].append(ws.bot_user_id)
            reaction["count"] += 1
            return {}
    reactions.append({"name": name, "users": [ws.bot_user_id], "count": 1})
    return {}


def files_get_upload_url_external(ws: Workspace, args: Args) -> dict[str, Any]:
    """Reserve a file ID and an upload URL served by the fake itself."""
    name = args.require("filename")
    length = args.integer("length", -1)
    if length < 0:
        args.require("length")
        raise SlackApiFailure("invalid_arguments")
    file = File(
        id=ws.new_id("F"),
        name=name,
        length=length,
        user=ws.bot_user_id,
        created=int(time.time()),
        alt_txt=args.get("alt_txt"),
    )
    ws.files[file.id] = file
    key = f"{ws.team_id}-{file.id}-{ws.new_id('K').lower()}"
    ws.upload_keys[key] = file.id
    return {"upload_url": f"{ws.upload_base}/upload/v1/{key}", "file_id": file.id}


def files_complete_upload_external(ws: Workspace, args: Args) -> dict[str, Any]:
    """Finish uploads and share them, with the initial comment, in one channel."""
    entries = args.raw("files")
    if not isinstance(entries, list) or not entries:
        raise SlackApiFailure("invalid_arguments")
    files: list[File] = []
    for entry in entries:
        file = ws.files.get(entry.get("id", "")) if isinstance(entry, dict) else None
        if file is None or file.content is None:
            raise SlackApiFailure("file_not_found")
        file.title = entry.get("title") or file.name
        files.append(file)
    targets = args.csv("channels") or (
        [args.require("channel_id")] if args.has("channel_id") else []
    )
    for ref in targets:
        channel = _target(ws, Args({"channel": ref}))
        for file in files:
            file.channels.append(channel.id)
        content: dict[str, Any] = {"text": args.get("initial_comment") or "", "upload": True}
        content["files"] = [ws.file_json(f) for f in files]
        post(ws, channel, content, _thread_ts(args))
    return {"files": [ws.file_json(f) for f in files]}


def files_info(ws: Workspace, args: Args) -> dict[str, Any]:
    """Return one file."""
    file = ws.files.get(args.require("file", "file_not_found"))
    if file is None:
        raise SlackApiFailure("file_not_found")
    return {"file": ws.file_json(file)}


METHODS: dict[str, Handler] = {
    "chat.postMessage": chat_post_message,
    "chat.update": chat_update,
    "chat.postEphemeral": chat_post_ephemeral,
    "chat.getPermalink": chat_get_permalink,
    "pins.add": pins_add,
    "pins.list": pins_list,
    "reactions.add": reactions_add,
    "files.getUploadURLExternal": files_get_upload_url_external,
    "files.completeUploadExternal": files_complete_upload_external,
    "files.info": files_info,
}
