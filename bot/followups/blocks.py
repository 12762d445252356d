"""Block Kit for follow-up lists: pure functions from follow-up views to dicts."""

from __future__ import annotations

from typing import Any

from bot.followups.flows import FollowUpView
from bot.followups.ids import BLOCK_PREFIX, FollowUpAction
from bot.text import neutralise, truncate

# Slack allows 50 blocks a message; each follow-up takes two.
MAX_LISTED = 20


def describe(item: FollowUpView) -> str:
    """Return one follow-up as a line of mrkdwn (user text neutralised)."""
    due = ""
    if item.due_on:
        due = f" · due {item.due_on.isoformat()}" + (" *(overdue)*" if item.overdue else "")
    text = truncate(neutralise(item.text), 500)
    return f"*{item.label}* {text}\n<@{item.owner_id}> · INC-{item.incident_number}{due}"


def followup_list_blocks(heading: str, items: list[FollowUpView]) -> list[dict[str, Any]]:
    """Render a list of follow-ups, each with [Done] and [Won't do]."""
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{heading}* ({len(items)})"}}
    ]
    if not items:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": "None. :tada:"}})
    for item in items[:MAX_LISTED]:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": describe(item)}})
        blocks.append(
            {
                "type": "actions",
                "block_id": f"{BLOCK_PREFIX}{item.id}",
                "elements": [
                    {
                        "type": "button",
                        "action_id": FollowUpAction.DONE,
                        "text": {"type": "plain_text", "text": "Done"},
                        "style": "primary",
                        "value": str(item.id),
                    },
                    {
                        "type": "button",
                        "action_id": FollowUpAction.WONT_DO,
                        "text": {"type": "plain_text", "text": "Won't do"},
                        "value": str(item.id),
                    },
                ],
            }
        )
    if len(items) > MAX_LISTED:
        more = f"… and {len(items) - MAX_LISTED} more."
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": more}]})
    return blocks


def home_blocks(items: list[FollowUpView]) -> list[dict[str, Any]]:
    """Render "my open follow-ups" for App Home (closed with `/incident followup done <id>`)."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "My open follow-ups"}}
    ]
    for item in items[:MAX_LISTED]:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": describe(item)}})
    more = f"… and {len(items) - MAX_LISTED} more. " if len(items) > MAX_LISTED else ""
    hint = "None. " if not items else more
    hint += "`/incident followups mine` lists them with [Done] and [Won't do]."
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": hint}]})
    return blocks
