"""views.* methods of the fake Slack Web API: modals and the Home tab."""

from __future__ import annotations

import copy
import re
import secrets
import time
from typing import Any

from bot.fakes.slack_args import Args
from bot.fakes.slack_blocks import validate_view
from bot.fakes.slack_conversations import Handler
from bot.fakes.slack_workspace import SlackApiFailure, Workspace, invalid

# docs.slack.dev: "The expected format for the trigger_id argument is 132456.7890123.abcdef".
_TRIGGER_RE = re.compile(r"^\d+\.\d+\.[0-9a-zA-Z]+$")


def _exchange_trigger(ws: Workspace, args: Args) -> str:
    trigger_id = args.get("trigger_id") or args.get("interactivity_pointer")
    if trigger_id is None:
        raise invalid("invalid_arguments", ["missing required field: trigger_id"])
    if not _TRIGGER_RE.match(trigger_id):
        raise SlackApiFailure("invalid_trigger_id")
    if trigger_id in ws.expired_triggers:
        raise SlackApiFailure("expired_trigger_id")
    if trigger_id in ws.used_triggers:
        raise SlackApiFailure("exchanged_trigger_id")
    ws.used_triggers.add(trigger_id)
    return trigger_id


def _checked_view(ws: Workspace, args: Args, *, kind: str | None = None) -> dict[str, Any]:
    view = args.raw("view")
    if view is None:
        raise invalid("invalid_arguments", ["missing required field: view"])
    errors = validate_view(view)
    if not errors and kind is not None and view.get("type") != kind:
        errors = [f"must be {kind} [json-pointer:/view/type]"]
    if errors:
        raise invalid("invalid_arguments", errors)
    return dict(view)


def _store(
    ws: Workspace, view: dict[str, Any], *, view_id: str | None = None, **extra: Any
) -> dict[str, Any]:
    external_id = view.get("external_id", "")
    if external_id and any(
        v.get("external_id") == external_id and v["id"] != view_id for v in ws.views.values()
    ):
        raise SlackApiFailure("duplicate_external_id")
    new_id = view_id or ws.new_id("V")
    previous = ws.views.get(new_id, {})
    stored: dict[str, Any] = {
        "id": new_id,
        "team_id": ws.team_id,
        "type": view["type"],
        "blocks": view.get("blocks", []),
        "private_metadata": view.get("private_metadata", ""),
        "callback_id": view.get("callback_id", ""),
        "state": {"values": {}},
        "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
        "clear_on_close": bool(view.get("clear_on_close", False)),
        "notify_on_close": bool(view.get("notify_on_close", False)),
        "root_view_id": previous.get("root_view_id", new_id),
        "previous_view_id": previous.get("previous_view_id"),
        "app_id": ws.app_id,
        "external_id": external_id,
        "app_installed_team_id": ws.team_id,
        "bot_id": ws.bot_id,
    }
    for key in ("title", "submit", "close"):
        if key in view:
            stored[key] = view[key]
    stored.update(extra)
    ws.views[new_id] = stored
    return copy.deepcopy(stored)


def views_open(ws: Workspace, args: Args) -> dict[str, Any]:
    """Open a modal in exchange for a trigger_id."""
    _exchange_trigger(ws, args)
    return {"view": _store(ws, _checked_view(ws, args, kind="modal"))}


def views_push(ws: Workspace, args: Args) -> dict[str, Any]:
    """Push a modal onto the stack (needs a fresh trigger_id)."""
    _exchange_trigger(ws, args)
    return {"view": _store(ws, _checked_view(ws, args, kind="modal"))}


def views_update(ws: Workspace, args: Args) -> dict[str, Any]:
    """Replace an open view, found by view_id or external_id."""
    view_id = args.get("view_id")
    external_id = args.get("external_id")
    if view_id is None and external_id is None:
        raise invalid("invalid_arguments", ["missing required field: view_id"])
    current = ws.views.get(view_id or "") or next(
        (v for v in ws.views.values() if external_id and v.get("external_id") == external_id), None
    )
    if current is None:
        raise SlackApiFailure("not_found")
    hash_ = args.get("hash")
    if hash_ is not None and hash_ != current["hash"]:
        raise SlackApiFailure("hash_conflict")
    view = _checked_view(ws, args, kind=current["type"])
    return {"view": _store(ws, view, view_id=current["id"])}


def views_publish(ws: Workspace, args: Args) -> dict[str, Any]:
    """Publish a user's Home tab."""
    user_id = args.require("user_id")
    ws.user(user_id)
    view = _checked_view(ws, args, kind="home")
    current_id = ws.home_views.get(user_id)
    hash_ = args.get("hash")
    if current_id and hash_ is not None and hash_ != ws.views[current_id]["hash"]:
        raise SlackApiFailure("hash_conflict")
    stored = _store(ws, view, view_id=current_id)
    ws.home_views[user_id] = stored["id"]
    return {"view": stored}


METHODS: dict[str, Handler] = {
    "views.open": views_open,
    "views.push": views_push,
    "views.update": views_update,
    "views.publish": views_publish,
}
