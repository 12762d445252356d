"""Block Kit for follow-ups: lists, App Home, owner DMs, nudges, the Add button and modal."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.followups.service import SNOOZE_FOR_DAYS
from bot.incidents.domain import incident_label
from bot.slack.ids import (
    FOLLOWUP_ADD_BLOCK_PREFIX,
    FOLLOWUP_ITEM_BLOCK_PREFIX,
    FollowUpAction,
    FollowUpBlock,
    FollowUpCallback,
    FollowUpInput,
)
from bot.text import neutralise, truncate

if TYPE_CHECKING:
    from bot.followups.flows import FollowUpView

# Slack allows 50 blocks a message; each follow-up takes two.
MAX_LISTED = 20


def describe(item: FollowUpView) -> str:
    """Return one follow-up as a line of mrkdwn (user text neutralised)."""
    due = ""
    if item.due_on:
        due = f" · due {item.due_on.isoformat()}" + (" *(overdue)*" if item.overdue else "")
    text = truncate(neutralise(item.text), 500)
    incident = incident_label(item.incident_number)
    return f"*{item.label}* {text}\n<@{item.owner_id}> · {incident}{due}"


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
                "block_id": f"{FOLLOWUP_ITEM_BLOCK_PREFIX}{item.id}",
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


def confirmation_blocks(said: str, item: FollowUpView) -> list[dict[str, Any]]:
    """Render the answer to `/incident followup <text>`: the item and how to close it."""
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"{said}:\n{describe(item)}"}},
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": f"`/incident followup done {item.id}` when it is done."}
            ],
        },
    ]


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


def _button(action: FollowUpAction, label: str, followup_id: int, **extra: Any) -> dict[str, Any]:
    return {
        "type": "button",
        "action_id": action,
        "text": {"type": "plain_text", "text": label},
        "value": str(followup_id),
        **extra,
    }


def owner_dm_blocks(text: str, followup_id: int) -> list[dict[str, Any]]:
    """Render the DM to a new owner: the item, [Done] and [Won't do]."""
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        {
            "type": "actions",
            "block_id": f"{FOLLOWUP_ITEM_BLOCK_PREFIX}{followup_id}",
            "elements": [
                _button(FollowUpAction.DONE, "Done", followup_id, style="primary"),
                _button(FollowUpAction.WONT_DO, "Won't do", followup_id),
            ],
        },
    ]


def nudge_blocks(text: str, followup_id: int) -> list[dict[str, Any]]:
    """Render a due-date nudge: the item, [Done] [Snooze 1 week] [Won't do]."""
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": f":alarm_clock: {text}"}},
        {
            "type": "actions",
            "block_id": f"{FOLLOWUP_ITEM_BLOCK_PREFIX}{followup_id}",
            "elements": [
                _button(FollowUpAction.DONE, "Done", followup_id, style="primary"),
                _button(FollowUpAction.SNOOZE, f"Snooze {SNOOZE_FOR_DAYS // 7} week", followup_id),
                _button(FollowUpAction.WONT_DO, "Won't do", followup_id),
            ],
        },
    ]


def add_button(incident_id: int) -> dict[str, Any]:
    """Return the [Add follow-up] button of the resolve summary and the postmortem message."""
    return {
        "type": "actions",
        "block_id": f"{FOLLOWUP_ADD_BLOCK_PREFIX}{incident_id}",
        "elements": [
            {
                "type": "button",
                "action_id": FollowUpAction.ADD,
                "text": {"type": "plain_text", "text": "Add follow-up"},
                "value": str(incident_id),
            }
        ],
    }


def add_modal(incident_id: int, label: str, owner_id: str) -> dict[str, Any]:
    """Build the Add follow-up modal: what, owner (the clicker by default), optional due date."""
    return {
        "type": "modal",
        "callback_id": FollowUpCallback.ADD,
        "private_metadata": str(incident_id),
        "title": {"type": "plain_text", "text": "Add follow-up"},
        "submit": {"type": "plain_text", "text": "Add"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"For {label}"}]},
            {
                "type": "input",
                "block_id": FollowUpBlock.TEXT,
                "label": {"type": "plain_text", "text": "What needs doing"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": FollowUpInput.TEXT,
                    "multiline": True,
                    "max_length": 1000,
                },
            },
            {
                "type": "input",
                "block_id": FollowUpBlock.OWNER,
                "label": {"type": "plain_text", "text": "Owner"},
                "element": {
                    "type": "users_select",
                    "action_id": FollowUpInput.OWNER,
                    "initial_user": owner_id,
                },
            },
            {
                "type": "input",
                "block_id": FollowUpBlock.DUE,
                "optional": True,
                "label": {"type": "plain_text", "text": "Due"},
                "element": {"type": "datepicker", "action_id": FollowUpInput.DUE},
            },
        ],
    }
