"""Buttons on incident messages: ack at once, open the matching modal lazily."""

from __future__ import annotations

from functools import partial
from typing import Any

from slack_bolt import App

from bot.db import session_scope
from bot.deps import Deps
from bot.i18n import _, for_reader
from bot.incidents import service
from bot.integrations.ports import IntegrationError
from bot.slack.blocks.modals import resolve_modal, severity_modal, update_modal
from bot.slack.ids import IncidentAction
from bot.slack.listeners.lazy import just_ack
from bot.slack.listeners.payloads import action_channel


def register(app: App, deps: Deps) -> None:
    """Register the Post update, Change severity and Resolve buttons."""
    app.action(IncidentAction.POST_UPDATE)(ack=just_ack, lazy=[partial(open_update, deps=deps)])
    app.action(IncidentAction.RESOLVE)(ack=just_ack, lazy=[partial(open_resolve, deps=deps)])
    app.action(IncidentAction.CHANGE_SEVERITY)(
        ack=just_ack, lazy=[partial(open_severity, deps=deps)]
    )


def open_update(body: dict[str, Any], *, deps: Deps) -> None:
    """Open the Post update form."""
    with for_reader():  # a modal is seen by the person who clicked
        view = update_modal(action_channel(body))
    open_modal(body, view, deps=deps)


def open_resolve(body: dict[str, Any], *, deps: Deps) -> None:
    """Open the Resolve form."""
    with for_reader():
        view = resolve_modal(action_channel(body))
    open_modal(body, view, deps=deps)


def open_severity(body: dict[str, Any], *, deps: Deps) -> None:
    """Open the Change severity form, preset to the incident's severity."""
    channel = action_channel(body)
    with session_scope(deps.session_factory) as session:
        incident = service.get_by_channel(channel, session=session)
        current = incident.severity if incident else deps.settings.default_severity
    with for_reader():
        view = severity_modal(channel, deps.settings.severity_names, current)
    open_modal(body, view, deps=deps)


def open_modal(body: dict[str, Any], view: dict[str, Any], *, deps: Deps) -> None:
    """Open a modal for the person who clicked; tell them when Slack refuses."""
    try:
        deps.chat.open_view(body["trigger_id"], view)
    except IntegrationError as exc:
        with for_reader():
            text = _("Could not open the form: {problem}", problem=exc)
        deps.chat.post_ephemeral(action_channel(body), body["user"]["id"], text)
