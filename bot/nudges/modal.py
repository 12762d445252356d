"""Pure builder and reader of the Schedule meeting modal."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.models.blocks import (
    DatePickerElement,
    InputBlock,
    PlainTextInputElement,
    TimePickerElement,
    UserMultiSelectElement,
)
from slack_sdk.models.views import View

from bot.i18n import _
from bot.slack.ids import NudgeAction, NudgeBlock, NudgeCallback
from bot.text import duration_value


def schedule_modal(
    *,
    incident_id: int,
    channel_id: str,
    label: str,
    day: datetime,
    timezone: str,
    duration: timedelta,
    attendees: list[str],
) -> dict[str, Any]:
    """Build the modal: date, time, timezone (from the user's profile), duration, attendees."""
    blocks = [
        InputBlock(
            block_id=NudgeBlock.DATE,
            label=_("Date"),
            element=DatePickerElement(action_id=NudgeAction.DATE, initial_date=f"{day:%Y-%m-%d}"),
        ),
        InputBlock(
            block_id=NudgeBlock.TIME,
            label=_("Time"),
            element=TimePickerElement(action_id=NudgeAction.TIME, initial_time="10:00"),
        ),
        InputBlock(
            block_id=NudgeBlock.TIMEZONE,
            label=_("Timezone (IANA name)"),
            element=PlainTextInputElement(action_id=NudgeAction.TIMEZONE, initial_value=timezone),
        ),
        InputBlock(
            block_id=NudgeBlock.DURATION,
            label=_("Duration (e.g. 45m, 1h)"),
            element=PlainTextInputElement(
                action_id=NudgeAction.DURATION,
                initial_value=duration_value(duration.total_seconds()).replace(" ", ""),
            ),
        ),
        InputBlock(
            block_id=NudgeBlock.ATTENDEES,
            label=_("Attendees"),
            optional=True,
            element=UserMultiSelectElement(
                action_id=NudgeAction.ATTENDEES, initial_users=attendees[:100] or None
            ),
        ),
    ]
    view = View(
        type="modal",
        callback_id=NudgeCallback.SCHEDULE,
        title=_("Postmortem meeting"),
        submit=_("Schedule"),
        close=_("Cancel"),
        blocks=blocks,
        private_metadata=json.dumps(
            {"incident_id": incident_id, "channel_id": channel_id, "label": label}
        ),
    )
    return view.to_dict()


def submitted(view: dict[str, Any]) -> dict[str, Any]:
    """Read the modal's values: date, time, timezone, duration, attendees and its metadata."""
    values = view["state"]["values"]

    def element(block: NudgeBlock, action: NudgeAction) -> dict[str, Any]:
        return dict(values.get(block, {}).get(action, {}))

    return {
        "date": element(NudgeBlock.DATE, NudgeAction.DATE).get("selected_date"),
        "time": element(NudgeBlock.TIME, NudgeAction.TIME).get("selected_time"),
        "timezone": element(NudgeBlock.TIMEZONE, NudgeAction.TIMEZONE).get("value") or "",
        "duration": element(NudgeBlock.DURATION, NudgeAction.DURATION).get("value") or "",
        "attendees": element(NudgeBlock.ATTENDEES, NudgeAction.ATTENDEES).get("selected_users")
        or [],
        "meta": _metadata(view.get("private_metadata")),
    }


def _metadata(raw: object) -> dict[str, Any]:
    try:
        decoded = json.loads(raw) if isinstance(raw, str) and raw else {}
    except (ValueError, RecursionError):
        return {}
    return decoded if isinstance(decoded, dict) else {}


def metadata_incident_id(meta: dict[str, Any]) -> int | None:
    """Return the incident id the modal was opened for, or None when it is not a sane one."""
    value = meta.get("incident_id")
    return value if isinstance(value, int) and 0 < value < 2**31 else None
