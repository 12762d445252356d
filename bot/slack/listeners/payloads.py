"""Read what Slack sent: the channel of a click, a modal's input values, its metadata."""

from __future__ import annotations

import json
from typing import Any


def action_channel(body: dict[str, Any]) -> str:
    """Return the channel a button was clicked in."""
    return str(
        (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id", "")
    )


def state_value(view: dict[str, Any], block: str, action: str) -> Any:
    """Read one input's value from a submitted view's state."""
    element = view["state"]["values"].get(block, {}).get(action, {})
    kind = element.get("type")
    if kind == "static_select":
        return (element.get("selected_option") or {}).get("value")
    if kind == "users_select":
        return element.get("selected_user")
    if kind == "multi_users_select":
        return element.get("selected_users") or []
    if kind == "checkboxes":
        return [o.get("value") for o in element.get("selected_options") or []]
    return element.get("value")


def metadata(view: dict[str, Any]) -> dict[str, Any]:
    """Decode a view's private_metadata; anything but a JSON object reads as empty."""
    try:
        decoded = json.loads(view.get("private_metadata") or "{}")
    except (ValueError, TypeError, RecursionError):
        return {}
    return decoded if isinstance(decoded, dict) else {}


def metadata_text(view: dict[str, Any], key: str) -> str:
    """Return one string field of a view's metadata ('' when missing or of another type)."""
    value = metadata(view).get(key)
    return value if isinstance(value, str) else ""


def metadata_links(view: dict[str, Any]) -> dict[str, str]:
    """Return the links carried in metadata (vendor name to reference), strings only."""
    links = metadata(view).get("links")
    if not isinstance(links, dict):
        return {}
    return {k: v for k, v in links.items() if isinstance(v, str) and v}
