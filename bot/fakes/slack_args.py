"""Decoded arguments of one Web API call, and the cursor pagination Slack's list methods share."""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
from collections.abc import Sequence
from typing import Any, TypeVar
from urllib.parse import parse_qs

from bot.fakes.slack_workspace import SlackApiFailure

# slack_sdk sends these as JSON strings inside form bodies; Slack decodes them server side.
JSON_FIELDS = frozenset({"blocks", "attachments", "view", "files", "metadata"})

T = TypeVar("T")


def decode_arguments(query: dict[str, list[str]], body: bytes, content_type: str) -> dict[str, Any]:
    """Merge the query string with a form or JSON body, decoding JSON-encoded fields."""
    args: dict[str, Any] = {key: values[-1] for key, values in query.items()}
    text = body.decode("utf-8", errors="replace") if body else ""
    if "application/json" in content_type and text:
        decoded = json.loads(text)
        if isinstance(decoded, dict):
            args.update(decoded)
    elif text:
        form = parse_qs(text, keep_blank_values=True)
        args.update({key: values[-1] for key, values in form.items()})
    for key in JSON_FIELDS & args.keys():
        if isinstance(args[key], str):
            # undecodable text stays a string; the method answers with its own format error
            with contextlib.suppress(ValueError):
                args[key] = json.loads(args[key])
    return args


class Args:
    """Typed access to a call's arguments, failing the way Slack does."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def get(self, key: str) -> str | None:
        """Return an argument as a string, or None when absent or empty."""
        value = self.values.get(key)
        if value is None or value == "":
            return None
        return value if isinstance(value, str) else str(value)

    def require(self, key: str, error: str = "invalid_arguments") -> str:
        """Return a required argument or fail with the given error."""
        value = self.get(key)
        if value is None:
            if error == "invalid_arguments":
                raise SlackApiFailure(
                    error,
                    response_metadata={"messages": [f"[ERROR] missing required field: {key}"]},
                )
            raise SlackApiFailure(error)
        return value

    def raw(self, key: str) -> Any:
        """Return an argument as decoded (lists and objects for JSON fields)."""
        return self.values.get(key)

    def has(self, key: str) -> bool:
        """Tell whether a non-empty argument was given."""
        return self.values.get(key) not in (None, "", [])

    def flag(self, key: str, default: bool = False) -> bool:
        """Return a boolean argument ("true", "1", true)."""
        value = self.values.get(key)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        return str(value).lower() in ("1", "true")

    def integer(self, key: str, default: int) -> int:
        """Return an integer argument or the default."""
        value = self.get(key)
        if value is None:
            return default
        try:
            return int(value)
        except ValueError:
            raise SlackApiFailure("invalid_arguments") from None

    def csv(self, key: str) -> list[str]:
        """Return a comma-separated argument as a list."""
        value = self.get(key)
        return [item.strip() for item in value.split(",") if item.strip()] if value else []


def paginate(items: Sequence[T], args: Args, *, default_limit: int = 100) -> tuple[list[T], str]:
    """Return one page of items and the next_cursor ("" on the last page)."""
    limit = args.integer("limit", default_limit)
    limit = default_limit if limit <= 0 else min(limit, 1000)
    cursor = args.get("cursor")
    start = 0
    if cursor:
        try:
            kind, _, offset = base64.b64decode(cursor, validate=True).decode().partition(":")
            start = int(offset)
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise SlackApiFailure("invalid_cursor") from None
        if kind != "offset" or start < 0:
            raise SlackApiFailure("invalid_cursor")
    end = start + limit
    next_cursor = base64.b64encode(f"offset:{end}".encode()).decode() if end < len(items) else ""
    return list(items[start:end]), next_cursor
