"""The Schedule meeting modal: validate and record before the ack, announce after it."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.db import utcnow
from bot.deps import Deps
from bot.i18n import _
from bot.incidents.domain import InvalidInput
from bot.nudges import meetings
from bot.slack.ids import NudgeBlock, NudgeCallback, NudgeInput
from bot.slack.listeners.lazy import carry, deliver, run_carried
from bot.slack.listeners.payloads import metadata
from bot.slack.router import Followup, followup


def submitted(view: dict[str, Any]) -> dict[str, Any]:
    """Read the modal's values: date, time, timezone, duration, attendees and its metadata."""
    values = view["state"]["values"]

    def element(block: NudgeBlock, action: NudgeInput) -> dict[str, Any]:
        return dict(values.get(block, {}).get(action, {}))

    return {
        "date": element(NudgeBlock.DATE, NudgeInput.DATE).get("selected_date"),
        "time": element(NudgeBlock.TIME, NudgeInput.TIME).get("selected_time"),
        "timezone": element(NudgeBlock.TIMEZONE, NudgeInput.TIMEZONE).get("value") or "",
        "duration": element(NudgeBlock.DURATION, NudgeInput.DURATION).get("value") or "",
        "attendees": element(NudgeBlock.ATTENDEES, NudgeInput.ATTENDEES).get("selected_users")
        or [],
        "meta": metadata(view),
    }


def metadata_incident_id(meta: dict[str, Any]) -> int | None:
    """Return the incident id the modal was opened for, or None when it is not a sane one."""
    value = meta.get("incident_id")
    return value if isinstance(value, int) and 0 < value < 2**31 else None


def accept_meeting(
    view: dict[str, Any], user_id: str, deps: Deps
) -> tuple[dict[str, str], Followup | None]:
    """Validate and record the modal's meeting; return input errors or the announcement."""
    values = submitted(view)
    incident_id = metadata_incident_id(values["meta"])
    if incident_id is None:
        return {
            NudgeBlock.DATE: "This form has lost track of its incident's meeting; "
            "run `/incident schedule` again."
        }, None
    errors: dict[str, str] = {}
    try:
        meetings.zone(values["timezone"])
    except InvalidInput as exc:
        errors[NudgeBlock.TIMEZONE] = str(exc)
    try:
        duration = meetings.parse_meeting_duration(values["duration"])
    except InvalidInput as exc:
        errors[NudgeBlock.DURATION] = str(exc)
    if not values["date"] or not values["time"]:
        errors[NudgeBlock.DATE] = _("Pick a date and a time.")
    if errors:
        return errors, None
    try:
        local = datetime.strptime(f"{values['date']} {values['time']}", "%Y-%m-%d %H:%M")
    except ValueError:
        return {NudgeBlock.DATE: "That is not a real date and time."}, None
    try:
        starts_at = meetings.start_time(local, values["timezone"].strip(), utcnow())
    except InvalidInput as exc:
        return {NudgeBlock.DATE: str(exc)}, None
    keys = meetings.record_meeting(
        incident_id,
        starts_at,
        timezone=values["timezone"].strip(),
        duration=duration,
        attendees=list(values["attendees"]),
        user_id=user_id,
        session_factory=deps.session_factory,
    )
    return {}, followup(deliver, keys=keys)


def accept_meeting_modal(
    ack: Ack, body: dict[str, Any], context: BoltContext, *, deps: Deps
) -> None:
    """Ack the meeting form: its input errors, or an empty ack and the announcement after."""
    errors, announcement = accept_meeting(body["view"], body["user"]["id"], deps)
    if errors:
        ack(response_action="errors", errors=errors)
        return
    carry(context, announcement)
    ack()


def register(app: App, deps: Deps) -> None:
    """Register the Schedule meeting modal's submission."""
    app.view(NudgeCallback.SCHEDULE)(
        ack=partial(accept_meeting_modal, deps=deps), lazy=[partial(run_carried, deps=deps)]
    )
