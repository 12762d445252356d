"""Block Kit limits the fake enforces, with the messages Slack puts in response_metadata.

Limits from docs.slack.dev (Block Kit reference): 50 blocks per message, 100 per view; header
text 150, section text 3000, section field 2000, button text 75, view title/submit/close 24.
"""

from __future__ import annotations

from typing import Any

MESSAGE_MAX_BLOCKS = 50
VIEW_MAX_BLOCKS = 100
_TEXT_LIMITS = {"header": 150, "section": 3000}
_BUTTON_TEXT_MAX = 75
_FIELD_MAX = 2000
_ID_MAX = 255


def _too_long(text: Any, limit: int, pointer: str) -> list[str]:
    if isinstance(text, str) and len(text) > limit:
        return [f"must be less than {limit + 1} characters [json-pointer:{pointer}]"]
    return []


def _text_object(obj: Any, limit: int, pointer: str, *, plain_only: bool = False) -> list[str]:
    if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
        return [f"must provide an object [json-pointer:{pointer}]"]
    if plain_only and obj.get("type") != "plain_text":
        return [f"must be a valid enum value [json-pointer:{pointer}/type]"]
    if not obj["text"]:
        return [f"must be more than 0 characters [json-pointer:{pointer}/text]"]
    return _too_long(obj["text"], limit, f"{pointer}/text")


def _element(element: Any, pointer: str) -> list[str]:
    if not isinstance(element, dict) or "type" not in element:
        return [f"must provide an object [json-pointer:{pointer}]"]
    errors = _too_long(element.get("action_id"), _ID_MAX, f"{pointer}/action_id")
    if element["type"] == "button":
        errors += _text_object(
            element.get("text"), _BUTTON_TEXT_MAX, f"{pointer}/text", plain_only=True
        )
        errors += _too_long(element.get("value"), _FIELD_MAX, f"{pointer}/value")
    return errors


def _block(block: Any, pointer: str) -> list[str]:
    if not isinstance(block, dict) or not isinstance(block.get("type"), str):
        return [f"missing required field: type [json-pointer:{pointer}]"]
    kind = block["type"]
    errors = _too_long(block.get("block_id"), _ID_MAX, f"{pointer}/block_id")
    if kind == "header":
        errors += _text_object(
            block.get("text"), _TEXT_LIMITS["header"], f"{pointer}/text", plain_only=True
        )
    elif kind == "section":
        if "text" not in block and "fields" not in block:
            errors.append(f"must provide at least one of [text, fields] [json-pointer:{pointer}]")
        if "text" in block:
            errors += _text_object(block["text"], _TEXT_LIMITS["section"], f"{pointer}/text")
        fields = block.get("fields") or []
        if len(fields) > 10:
            errors.append(f"no more than 10 items allowed [json-pointer:{pointer}/fields]")
        for i, item in enumerate(fields):
            errors += _text_object(item, _FIELD_MAX, f"{pointer}/fields/{i}")
        if "accessory" in block:
            errors += _element(block["accessory"], f"{pointer}/accessory")
    elif kind in ("actions", "context"):
        elements = block.get("elements")
        limit = 25 if kind == "actions" else 10
        if not isinstance(elements, list) or not elements:
            errors.append(f"must provide an array [json-pointer:{pointer}/elements]")
        elif len(elements) > limit:
            errors.append(f"no more than {limit} items allowed [json-pointer:{pointer}/elements]")
        elif kind == "actions":
            for i, element in enumerate(elements):
                errors += _element(element, f"{pointer}/elements/{i}")
    elif kind == "input":
        errors += _text_object(block.get("label"), _FIELD_MAX, f"{pointer}/label", plain_only=True)
        if not isinstance(block.get("element"), dict):
            errors.append(f"missing required field: element [json-pointer:{pointer}]")
    return errors


def validate_blocks(blocks: Any, *, pointer: str, max_blocks: int) -> list[str]:
    """Return Slack's explanations of everything wrong with a list of blocks (empty when valid)."""
    if not isinstance(blocks, list):
        return [f"must provide an array [json-pointer:{pointer}]"]
    if len(blocks) > max_blocks:
        return [f"no more than {max_blocks} items allowed [json-pointer:{pointer}]"]
    errors: list[str] = []
    for index, block in enumerate(blocks):
        errors += _block(block, f"{pointer}/{index}")
    return errors


def validate_view(view: Any) -> list[str]:
    """Return Slack's explanations of everything wrong with a modal or Home tab view."""
    if not isinstance(view, dict):
        return ["must provide an object [json-pointer:/view]"]
    kind = view.get("type")
    if kind not in ("modal", "home"):
        return ["must be a valid enum value [json-pointer:/view/type]"]
    errors = validate_blocks(view.get("blocks"), pointer="/view/blocks", max_blocks=VIEW_MAX_BLOCKS)
    errors += _too_long(view.get("callback_id"), _ID_MAX, "/view/callback_id")
    errors += _too_long(view.get("private_metadata"), 3000, "/view/private_metadata")
    errors += _too_long(view.get("external_id"), _ID_MAX, "/view/external_id")
    if kind == "modal":
        errors += _text_object(view.get("title"), 24, "/view/title", plain_only=True)
        for key in ("submit", "close"):
            if key in view:
                errors += _text_object(view[key], 24, f"/view/{key}", plain_only=True)
        blocks = view.get("blocks")
        blocks = blocks if isinstance(blocks, list) else []
        has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)
        if has_input and "submit" not in view:
            errors.append("must provide submit when input blocks are present [json-pointer:/view]")
    return errors
