"""Pure builders of the incident modals."""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import (
    CheckboxesElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
    UserMultiSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.i18n import _
from bot.slack.ids import IncidentBlock, IncidentCallback, IncidentInput
from bot.text import truncate

INCIDENT_TYPES = [
    Option(text="Default", value="default"),
    Option(text="Security", value="security"),
]
PRIVATE_OPTION = Option(
    text="Private",
    value="private",
    description="A private channel; never announced in the incidents channel",
)


def _severity_select(severities: list[str], selected: str) -> StaticSelectElement:
    options = [Option(text=name, value=name) for name in severities]
    initial = next((o for o in options if o.value == selected), options[0])
    return StaticSelectElement(
        action_id=IncidentInput.SEVERITY, options=options, initial_option=initial
    )


def declare_modal(
    *,
    severities: list[str],
    severity: str,
    reporter_id: str,
    title: str = "",
    description: str = "",
    title_max_length: int = 150,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Build the declare modal, optionally pre-filled (from a command or a PagerDuty alert)."""
    blocks = [
        InputBlock(
            block_id=IncidentBlock.TITLE,
            label=_("Title"),
            element=PlainTextInputElement(
                action_id=IncidentInput.TITLE,
                initial_value=truncate(title, title_max_length) or None,
                max_length=title_max_length,
                placeholder=_("What is broken, in a few words"),
            ),
        ),
        InputBlock(
            block_id=IncidentBlock.SEVERITY,
            label=_("Severity"),
            element=_severity_select(severities, severity),
        ),
        InputBlock(
            block_id=IncidentBlock.DESCRIPTION,
            label=_("Description"),
            optional=True,
            element=PlainTextInputElement(
                action_id=IncidentInput.DESCRIPTION,
                multiline=True,
                initial_value=description or None,
            ),
        ),
        InputBlock(
            block_id=IncidentBlock.COMMANDER,
            label=_("Commander"),
            element=UserSelectElement(action_id=IncidentInput.COMMANDER, initial_user=reporter_id),
        ),
        InputBlock(
            block_id=IncidentBlock.INVITEES,
            label=_("People to invite"),
            optional=True,
            element=UserMultiSelectElement(action_id=IncidentInput.INVITEES),
        ),
        InputBlock(
            block_id=IncidentBlock.INCIDENT_TYPE,
            label="Type",
            element=StaticSelectElement(
                action_id=IncidentInput.INCIDENT_TYPE,
                options=INCIDENT_TYPES,
                initial_option=INCIDENT_TYPES[0],
            ),
            hint="A security incident is private and invites the security responders.",
        ),
        InputBlock(
            block_id=IncidentBlock.PRIVATE,
            label="Visibility",
            optional=True,
            element=CheckboxesElement(action_id=IncidentInput.PRIVATE, options=[PRIVATE_OPTION]),
        ),
    ]
    view = View(
        type="modal",
        callback_id=IncidentCallback.DECLARE,
        title=_("Declare an incident"),
        submit=_("Declare"),
        close=_("Cancel"),
        blocks=blocks,
        private_metadata=json.dumps(metadata or {}),
    )
    return view.to_dict()


def text_modal(
    *,
    callback_id: IncidentCallback,
    title: str,
    label: str,
    submit: str,
    channel_id: str,
    optional: bool = False,
) -> dict[str, Any]:
    """Build a one-field modal (post update, resolve summary)."""
    block_id, action_id = (
        (IncidentBlock.SUMMARY, IncidentInput.SUMMARY)
        if callback_id == IncidentCallback.RESOLVE
        else (IncidentBlock.TEXT, IncidentInput.TEXT)
    )
    view = View(
        type="modal",
        callback_id=callback_id,
        title=title,
        submit=submit,
        close=_("Cancel"),
        private_metadata=json.dumps({"channel_id": channel_id}),
        blocks=[
            InputBlock(
                block_id=block_id,
                label=label,
                optional=optional,
                element=PlainTextInputElement(action_id=action_id, multiline=True, max_length=2900),
            )
        ],
    )
    return view.to_dict()


def update_modal(channel_id: str) -> dict[str, Any]:
    """Build the Post update modal."""
    return text_modal(
        callback_id=IncidentCallback.UPDATE,
        title=_("Post an update"),
        label=_("Update"),
        submit=_("Post"),
        channel_id=channel_id,
    )


def resolve_modal(channel_id: str) -> dict[str, Any]:
    """Build the Resolve modal with an optional summary."""
    return text_modal(
        callback_id=IncidentCallback.RESOLVE,
        title=_("Resolve incident"),
        label=_("Summary"),
        submit=_("Resolve"),
        channel_id=channel_id,
        optional=True,
    )


def severity_modal(channel_id: str, severities: list[str], current: str) -> dict[str, Any]:
    """Build the Change severity modal."""
    view = View(
        type="modal",
        callback_id=IncidentCallback.SEVERITY,
        title=_("Change severity"),
        submit=_("Change"),
        close=_("Cancel"),
        private_metadata=json.dumps({"channel_id": channel_id}),
        blocks=[
            InputBlock(
                block_id=IncidentBlock.SEVERITY,
                label=_("Severity"),
                element=_severity_select(severities, current),
            )
        ],
    )
    return view.to_dict()
