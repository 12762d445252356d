"""Events API listeners for incident channels: messages, pins and :pushpin: reactions."""

from __future__ import annotations

from functools import partial
from typing import Any

from slack_bolt import App

from bot.deps import Deps
from bot.incidents import activity
from bot.slack.listeners.once import ack_only, once


def register(app: App, deps: Deps) -> None:
    """Register the channel activity listeners, and quiet the events we subscribe to but skip."""
    app.event("message")(partial(on_message, deps=deps))
    app.event("pin_added")(ack=ack_only, lazy=[once(record_pin, deps)])
    app.event("reaction_added")(ack=ack_only, lazy=[once(record_pushpin, deps)])
    for skipped in ("pin_removed", "reaction_removed", "member_joined_channel", "channel_created"):
        app.event(skipped)(ignore)


def ignore() -> None:
    """Ack an event we receive but do nothing with."""
    return None


def is_human_message(event: dict[str, Any]) -> bool:
    """Say whether a message event was written by a person (not a bot, join or edit)."""
    return activity.is_human(
        user=event.get("user"), subtype=event.get("subtype"), bot_id=event.get("bot_id")
    ) and bool(event.get("ts"))


def on_message(event: dict[str, Any], *, deps: Deps) -> None:
    """Record a person's message in an incident channel (its last activity)."""
    if is_human_message(event):
        activity.record_human_message(event["channel"], event["user"], event["ts"], deps.incidents)


def record_pin(event: dict[str, Any], *, deps: Deps) -> None:
    """Record a pinned message in the incident's timeline."""
    item = event.get("item") or {}
    message = item.get("message") or {}
    ts = message.get("ts") or item.get("ts")
    channel = event.get("channel_id") or item.get("channel")
    if ts and channel:
        activity.record_pinned_message(
            channel,
            ts,
            kind="pin",
            actor_id=event.get("user"),
            text=message.get("text"),
            ctx=deps.incidents,
        )


def record_pushpin(event: dict[str, Any], *, deps: Deps) -> None:
    """Record a message marked with a :pushpin: reaction in the incident's timeline."""
    item = event.get("item") or {}
    channel, ts = item.get("channel"), item.get("ts")
    if event.get("reaction") != "pushpin" or item.get("type") != "message":
        return
    if not channel or not ts:
        return
    activity.record_pinned_message(
        channel,
        ts,
        kind="pushpin",
        actor_id=event.get("user"),
        text=None,
        ctx=deps.incidents,
    )
