"""Modal submissions: validate and record before the ack, announce in a lazy follow-up."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.deps import Deps
from bot.i18n import for_reader
from bot.incidents import declare, flows
from bot.incidents.domain import InvalidInput
from bot.slack.ids import IncidentBlock, IncidentCallback, IncidentInput
from bot.slack.listeners.commands.incidents import change_followup, setup_incident
from bot.slack.listeners.lazy import carry, run_carried
from bot.slack.listeners.payloads import metadata_links, metadata_text, state_value
from bot.slack.router import Outcome, followup

ViewAccept = Callable[[dict[str, Any], str, Deps], Outcome]


def accept_declare(view: dict[str, Any], user_id: str, deps: Deps) -> Outcome:
    """Record the incident from the declare modal (once per view, even if Slack re-delivers)."""
    try:
        title = declare.validate_title(
            state_value(view, IncidentBlock.TITLE, IncidentInput.TITLE) or "", deps.settings
        )
    except InvalidInput as exc:
        raise FieldError(IncidentBlock.TITLE, str(exc)) from exc
    severity = (
        state_value(view, IncidentBlock.SEVERITY, IncidentInput.SEVERITY)
        or deps.settings.default_severity
    )
    try:
        severity = declare.validate_severity(severity, deps.settings)
    except InvalidInput as exc:
        raise FieldError(IncidentBlock.SEVERITY, str(exc)) from exc
    request = declare.DeclareRequest(
        request_key=f"view:{view['id']}",
        title=title,
        severity=severity,
        reporter_id=user_id,
        description=state_value(view, IncidentBlock.DESCRIPTION, IncidentInput.DESCRIPTION) or "",
        commander_id=state_value(view, IncidentBlock.COMMANDER, IncidentInput.COMMANDER) or user_id,
        invitees=state_value(view, IncidentBlock.INVITEES, IncidentInput.INVITEES) or [],
        links=metadata_links(view),
        private="private"
        in (state_value(view, IncidentBlock.PRIVATE, IncidentInput.PRIVATE) or []),
        security=state_value(view, IncidentBlock.INCIDENT_TYPE, IncidentInput.INCIDENT_TYPE)
        == "security",
    )
    incident, _ = declare.open_declaration(
        request, session_factory=deps.session_factory, settings=deps.settings
    )
    return Outcome(followup=followup(setup_incident, incident_id=incident.id))


class FieldError(Exception):
    """A modal input is invalid; shown next to that input."""

    def __init__(self, block: IncidentBlock, message: str) -> None:
        super().__init__(message)
        self.block = block


def accept_update(view: dict[str, Any], user_id: str, deps: Deps) -> Outcome:
    """Record an update from the Post update modal."""
    text = state_value(view, IncidentBlock.TEXT, IncidentInput.TEXT) or ""
    channel_id = metadata_text(view, "channel_id")
    try:
        change = flows.record_update(channel_id, text, user_id, ctx=deps.incidents)
    except InvalidInput as exc:
        raise FieldError(IncidentBlock.TEXT, str(exc)) from exc
    return change_followup(change)


def accept_severity(view: dict[str, Any], user_id: str, deps: Deps) -> Outcome:
    """Change severity from the modal."""
    severity = state_value(view, IncidentBlock.SEVERITY, IncidentInput.SEVERITY) or ""
    try:
        change = flows.change_severity(
            metadata_text(view, "channel_id"),
            severity,
            user_id,
            ctx=deps.incidents,
        )
    except InvalidInput as exc:
        raise FieldError(IncidentBlock.SEVERITY, str(exc)) from exc
    return change_followup(change)


def accept_resolve(view: dict[str, Any], user_id: str, deps: Deps) -> Outcome:
    """Resolve from the modal."""
    summary = state_value(view, IncidentBlock.SUMMARY, IncidentInput.SUMMARY) or ""
    try:
        change = flows.resolve(
            metadata_text(view, "channel_id"),
            summary,
            user_id,
            ctx=deps.incidents,
        )
    except InvalidInput as exc:
        raise FieldError(IncidentBlock.SUMMARY, str(exc)) from exc
    return change_followup(change)


VIEW_HANDLERS: dict[str, ViewAccept] = {
    IncidentCallback.DECLARE: accept_declare,
    IncidentCallback.UPDATE: accept_update,
    IncidentCallback.SEVERITY: accept_severity,
    IncidentCallback.RESOLVE: accept_resolve,
}


def register(app: App, deps: Deps) -> None:
    """Register the declare, update, severity and resolve modal submissions."""
    for callback_id, accept in VIEW_HANDLERS.items():
        app.view(callback_id)(
            ack=partial(accept_submission, deps=deps, accept=accept),
            lazy=[partial(run_carried, deps=deps)],
        )


def accept_submission(
    ack: Ack, body: dict[str, Any], context: BoltContext, *, deps: Deps, accept: ViewAccept
) -> None:
    """Ack a modal submission: errors beside their inputs, or carry its follow-up along."""
    try:
        with for_reader():  # modal errors are for the person who submitted
            outcome = accept(body["view"], body["user"]["id"], deps)
    except FieldError as exc:
        ack(response_action="errors", errors={exc.block: str(exc)})
        return
    except InvalidInput as exc:
        blocks = [b for b in body["view"].get("blocks", []) if isinstance(b, dict)]
        first_block = next(
            (b["block_id"] for b in blocks if b.get("block_id")), IncidentBlock.TITLE
        )
        ack(response_action="errors", errors={first_block: str(exc)})
        return
    carry(context, outcome.followup)
    ack()
