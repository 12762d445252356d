"""The Add follow-up modal: validate and record before the ack, deliver the DM lazily."""

from __future__ import annotations

import json
from datetime import date
from functools import partial
from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.deps import Deps
from bot.followups import flows
from bot.incidents.domain import InvalidInput
from bot.slack.ids import FollowUpBlock, FollowUpCallback, FollowUpInput
from bot.slack.listeners.commands.followups import deliver_followup
from bot.slack.listeners.lazy import carry, run_carried
from bot.slack.router import Followup, followup


def _input(view: dict[str, Any], block: FollowUpBlock, action: FollowUpInput) -> dict[str, Any]:
    return dict(view["state"]["values"].get(block, {}).get(action, {}))


def accept_modal(
    view: dict[str, Any], user_id: str, deps: Deps
) -> tuple[dict[str, str], Followup | None]:
    """Add the follow-up of a submitted Add follow-up modal; return input errors, or what next."""
    meta = json.loads(view.get("private_metadata") or "{}")
    text = " ".join(
        (_input(view, FollowUpBlock.TEXT, FollowUpInput.TEXT).get("value") or "").split()
    )
    owner = _input(view, FollowUpBlock.OWNER, FollowUpInput.OWNER).get("selected_user") or user_id
    picked = _input(view, FollowUpBlock.DUE, FollowUpInput.DUE).get("selected_date")
    errors: dict[str, str] = {}
    if not text:
        errors[FollowUpBlock.TEXT] = "Say what needs doing."
    elif len(text) > flows.TEXT_LIMIT:
        errors[FollowUpBlock.TEXT] = f"At most {flows.TEXT_LIMIT} characters."
    due = date.fromisoformat(picked) if picked else None
    if due and due < flows.today_in(deps.settings.default_timezone):
        errors[FollowUpBlock.DUE] = f"{due.isoformat()} is in the past."
    if errors:
        return errors, None
    try:
        item, created, keys = flows.add_followup(
            "",
            user_id,
            flows.NewFollowUp(text, owner, due),
            request_key=f"view:{view['id']}",
            session_factory=deps.session_factory,
            incident_id=int(meta.get("incident_id") or 0),
        )
    except InvalidInput as exc:
        return {FollowUpBlock.TEXT: str(exc)}, None
    reply = f"{'Added' if created else 'Already added'} {item.label}: {item.text}"
    return {}, followup(
        deliver_followup,
        keys=keys,
        channel_id=str(meta.get("channel_id", "")),
        user_id=user_id,
        reply=reply,
    )


def accept_submission(ack: Ack, body: dict[str, Any], context: BoltContext, *, deps: Deps) -> None:
    """Ack the Add follow-up modal: its input errors, or close it and carry the delivery along."""
    errors, next_step = accept_modal(body["view"], body["user"]["id"], deps)
    if errors:
        ack(response_action="errors", errors=errors)
        return
    carry(context, next_step)
    ack()


def register(app: App, deps: Deps) -> None:
    """Register the Add follow-up modal's submission."""
    app.view(FollowUpCallback.ADD)(
        ack=partial(accept_submission, deps=deps), lazy=[partial(run_carried, deps=deps)]
    )
