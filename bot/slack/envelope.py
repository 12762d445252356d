"""Parse and shape-check Slack request bodies before Bolt sees them.

Bolt guesses the body format from a substring (a slash command whose text contains the word
"payload" is taken for interactivity) and indexes fields without checking their types. The
HTTP front door parses the body here instead and refuses what Slack would never send with a
400 naming the problem, so no listener meets a list where it expects an object. The asyncio
Socket Mode clients check each envelope's payload the same way before Bolt runs
(bot/socket_mode.py); `refuse_malformed`, the app's first middleware, checks what reaches
Bolt any other way (the threaded Socket Mode clients).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

import structlog
from slack_bolt import BoltResponse

from bot.text import is_slack_id

log = structlog.get_logger(__name__)

_TS = re.compile(r"^\d{1,12}(\.\d{1,8})?$")
_EVENT_IDS = ("user", "channel", "channel_id", "team", "bot_id", "item_user")
_EVENT_TEXTS = ("type", "subtype", "text", "reaction", "tab", "channel_type", "event_ts")
_MAX_DEPTH = 64


class MalformedRequest(ValueError):
    """A request body Slack would never send; the message says what is wrong."""


def parse_body(raw: str, content_type: str | None) -> dict[str, Any]:
    """Decode a Slack body: JSON (Events API), `payload=` JSON (interactivity) or a form."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind == "application/json" or raw.lstrip().startswith(("{", "[")):
        return _json_object(raw, "the JSON body")
    fields = dict(parse_qsl(raw, keep_blank_values=True))
    if "payload" in fields:
        return _json_object(fields["payload"], "the payload field")
    return fields


def _json_object(raw: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise MalformedRequest(f"{what} is not valid JSON") from exc
    if not isinstance(value, dict):
        raise MalformedRequest(f"{what} must be a JSON object")
    if _depth(value) > _MAX_DEPTH:
        raise MalformedRequest(f"{what} is nested too deeply")
    return value


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if level > _MAX_DEPTH:
            break
        children = item.values() if isinstance(item, dict) else item
        if isinstance(item, dict | list):
            stack.extend((child, level + 1) for child in children)
    return deepest


def refuse_malformed(body: Any, next: Callable[[], BoltResponse]) -> BoltResponse:  # noqa: A002
    """Bolt middleware: stop a request no listener can rely on (what Socket Mode delivers)."""
    problem = shape_problem(body) if isinstance(body, dict) else "the payload must be an object"
    if problem:
        log.warning("slack_request_refused", reason="malformed", problem=problem)
        return BoltResponse(status=400, body=f"malformed Slack request: {problem}")
    return next()


def shape_problem(body: dict[str, Any]) -> str | None:
    """Return what is wrong with a parsed body's shape, or None when listeners can rely on it."""
    if body.get("ssl_check") == "1":  # Slack checking our certificate: Bolt answers 200
        return None
    if "command" in body:
        return _slash_problem(body)
    kind = body.get("type")
    if not isinstance(kind, str):
        return "type must be a string"
    if kind == "event_callback":
        return _event_problem(body)
    if kind == "url_verification":
        return None if isinstance(body.get("challenge"), str) else "challenge must be a string"
    if kind in {"block_actions", "view_submission", "view_closed", "shortcut", "message_action"}:
        return _interaction_problem(body)
    return None


def _slash_problem(body: dict[str, Any]) -> str | None:
    for name in ("user_id", "channel_id"):
        if not is_slack_id(body.get(name)):
            return f"{name} must be a Slack id"
    return None


def _event_problem(body: dict[str, Any]) -> str | None:
    event = body.get("event")
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        return "event must be an object with a type"
    for name in ("event_id", "team_id"):
        if name in body and not isinstance(body[name], str):
            return f"{name} must be a string"
    if not isinstance(body.get("authorizations", []), list):
        return "authorizations must be a list"
    return _fields_problem(event, "event") or _item_problem(event.get("item"))


def _fields_problem(obj: dict[str, Any], where: str) -> str | None:
    for name in _EVENT_IDS:
        if obj.get(name) is not None and not is_slack_id(obj[name]):
            return f"{where}.{name} must be a Slack id"
    for name in _EVENT_TEXTS:
        if obj.get(name) is not None and not isinstance(obj[name], str):
            return f"{where}.{name} must be a string"
    for name in ("ts", "thread_ts"):
        if obj.get(name) is not None and not (isinstance(obj[name], str) and _TS.match(obj[name])):
            return f"{where}.{name} must be a Slack timestamp"
    return None


def _item_problem(item: Any) -> str | None:
    if item is None:
        return None
    if not isinstance(item, dict):
        return "event.item must be an object"
    problem = _fields_problem(item, "event.item")
    message = item.get("message")
    if problem is None and message is not None:
        problem = (
            _fields_problem(message, "event.item.message")
            if isinstance(message, dict)
            else "event.item.message must be an object"
        )
    return problem


def _interaction_problem(body: dict[str, Any]) -> str | None:
    user = body.get("user")
    if not isinstance(user, dict) or not is_slack_id(user.get("id")):
        return "user.id must be a Slack id"
    if not isinstance(body.get("trigger_id", ""), str):
        return "trigger_id must be a string"
    for name in ("channel", "container", "message"):
        if body.get(name) is not None and not isinstance(body[name], dict):
            return f"{name} must be an object"
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get(
        "channel_id"
    )
    if channel is not None and not is_slack_id(channel):
        return "channel id must be a Slack id"
    if body["type"] == "block_actions":
        return _actions_problem(body.get("actions"))
    if body["type"] in {"view_submission", "view_closed"}:
        return _view_problem(body.get("view"))
    return None


def _actions_problem(actions: Any) -> str | None:
    if not isinstance(actions, list) or not actions:
        return "actions must be a non-empty list"
    for action in actions:
        if not isinstance(action, dict) or not isinstance(action.get("action_id"), str):
            return "each action must be an object with an action_id"
        for name in ("value", "block_id"):
            if action.get(name) is not None and not isinstance(action[name], str):
                return f"action {name} must be a string"
        selected = action.get("selected_option")
        if selected is not None and not isinstance(selected, dict):
            return "selected_option must be an object"
    return None


def _view_problem(view: Any) -> str | None:
    if not isinstance(view, dict):
        return "view must be an object"
    for name in ("id", "callback_id"):
        if not isinstance(view.get(name), str):
            return f"view.{name} must be a string"
    if not isinstance(view.get("private_metadata", ""), str):
        return "view.private_metadata must be a string"
    if not isinstance(view.get("blocks", []), list):
        return "view.blocks must be a list"
    state = view.get("state")
    values = state.get("values") if isinstance(state, dict) else None
    if not isinstance(values, dict):
        return "view.state.values must be an object"
    for block in values.values():
        if not isinstance(block, dict):
            return "view.state.values must map block ids to objects of inputs"
        for element in block.values():
            problem = _element_problem(element)
            if problem:
                return problem
    return None


def _element_problem(element: Any) -> str | None:
    if not isinstance(element, dict):
        return "each input in view.state.values must be an object"
    for name in ("type", "value", "selected_date", "selected_time", "selected_conversation"):
        if element.get(name) is not None and not isinstance(element[name], str):
            return f"input {name} must be a string"
    if element.get("selected_user") is not None and not is_slack_id(element["selected_user"]):
        return "selected_user must be a Slack id"
    users = element.get("selected_users")
    if users is not None and not (isinstance(users, list) and all(map(is_slack_id, users))):
        return "selected_users must be a list of Slack ids"
    option = element.get("selected_option")
    if option is not None and not (
        isinstance(option, dict) and isinstance(option.get("value"), str)
    ):
        return "selected_option must be an object with a string value"
    return None
