"""Act as Slack and PagerDuty would: signed slash commands, messages, clicks and modal submits.

Every action is a real HTTP request to the running bot (POST /slack/events or the PagerDuty
webhook route), signed with the same helpers the tests use.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from bot.demo.transcript import Button, Transcript
from bot.demo.world import WEBHOOK_SECRET, World
from bot.fakes.slack_requests import send
from bot.i18n import _
from bot.pagerduty.feature import WEBHOOK_PATH

EVENTS_PATH = "/slack/events"


class DemoError(Exception):
    """The demo could not go on; the message says what was missing."""


def wait_for(
    predicate: Callable[[], Any], transcript: Transcript, *, timeout: float = 20.0, what: str = ""
) -> Any:
    """Poll until predicate() is truthy, printing the conversation meanwhile."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        transcript.flush()
        if value:
            return value
        if time.monotonic() > deadline:
            raise DemoError(f"timed out waiting for {what or 'the bot'}")
        time.sleep(0.1)


def fill_view(view: dict[str, Any], overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Return a view's state values: each input's initial value unless overridden by block_id."""
    overrides = overrides or {}
    values: dict[str, dict[str, Any]] = {}
    for block in view.get("blocks") or []:
        if block.get("type") != "input":
            continue
        element = block.get("element") or {}
        block_id, action_id = str(block.get("block_id")), str(element.get("action_id"))
        kind = element.get("type")
        given = overrides.get(block_id)
        state: dict[str, Any] = {"type": kind}
        if kind == "plain_text_input":
            state["value"] = given if given is not None else element.get("initial_value")
        elif kind == "static_select":
            options = element.get("options") or []
            chosen = element.get("initial_option")
            if given is not None:
                chosen = next((o for o in options if o.get("value") == given), chosen)
            state["selected_option"] = chosen
        elif kind == "users_select":
            state["selected_user"] = given or element.get("initial_user")
        elif kind == "multi_users_select":
            state["selected_users"] = list(given or element.get("initial_users") or [])
        elif kind == "datepicker":
            state["selected_date"] = given or element.get("initial_date")
        elif kind == "timepicker":
            state["selected_time"] = given or element.get("initial_time")
        values[block_id] = {action_id: state}
    return values


def modal_inputs(view: dict[str, Any]) -> list[tuple[str, str, str, Any]]:
    """Return (block_id, label, element type, initial value) for each input of a view."""
    found = []
    for block in view.get("blocks") or []:
        if block.get("type") != "input":
            continue
        element = block.get("element") or {}
        initial = (
            element.get("initial_value")
            or (element.get("initial_option") or {}).get("value")
            or element.get("initial_user")
            or element.get("initial_users")
            or element.get("initial_date")
            or element.get("initial_time")
        )
        label = str((block.get("label") or {}).get("text", block.get("block_id")))
        found.append((str(block.get("block_id")), label, str(element.get("type")), initial))
    return found


class SlackActor:
    """Send what Slack would send when the demo's people type, click and submit."""

    def __init__(self, world: World, transcript: Transcript) -> None:
        self.world = world
        self.transcript = transcript

    def _post(self, path: str, signed: tuple[str, dict[str, str]]) -> tuple[int, str]:
        status, body = send(self.world.url + path, *signed)
        if status >= 500:
            raise DemoError(f"the bot answered {status} to {path}: {body[:200]}")
        return status, body

    def command(self, user: str, channel: str, text: str) -> tuple[int, str]:
        """Run `/incident <text>` as a user; show the command and the bot's ephemeral answer."""
        self.transcript.flush()
        self.transcript.typed(channel, user, f"/incident {text}".rstrip())
        name = self.transcript.user_name(user)
        info = self.world.slack.channel(channel)
        signed = self.world.signer.slash_command(
            user_id=user, channel_id=channel, text=text, user_name=name,
            channel_name=str(info.get("name") or "directmessage"),
        )  # fmt: skip
        status, body = self._post(EVENTS_PATH, signed)
        reply = _reply_text(body)
        if reply:
            self.transcript.reply(channel, user, reply)
        return status, body

    def say(self, user: str, channel: str, text: str) -> str:
        """Post a plain message as a user, and deliver the message event to the bot."""
        self.transcript.flush()
        ts = self.world.slack.add_message(channel, user, text)
        self.transcript.mark_seen(channel, ts)
        self.transcript.typed(channel, user, text)
        self._post(
            EVENTS_PATH,
            self.world.signer.message_event(channel=channel, user=user, text=text, ts=ts),
        )
        return ts

    def click(self, user: str, button: Button) -> dict[str, Any] | None:
        """Click a button; return the modal it opened, if any."""
        self.transcript.flush()
        before = set(self.world.slack.views)
        self.transcript.clicked(button.channel_id, user, button.label)
        name = self.transcript.user_name(user)
        action = {**button.action(), "action_ts": f"{time.time():.6f}"}
        signed = self.world.signer.block_actions(
            user_id=user, user_name=name, actions=[action], channel_id=button.channel_id,
            channel_name=str(self.world.slack.channel(button.channel_id).get("name") or ""),
            message=button.message,
        )  # fmt: skip
        self._post(EVENTS_PATH, signed)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:  # views.open happens right after the ack
            opened = [v for k, v in self.world.slack.views.items() if k not in before]
            modals = [v for v in opened if v.get("type") == "modal"]
            if modals:
                self.transcript.flush()
                return modals[-1]
            time.sleep(0.05)
        self.transcript.flush()
        return None

    def submit(
        self, user: str, view: dict[str, Any], overrides: dict[str, Any] | None = None
    ) -> tuple[int, str]:
        """Submit a modal with its initial values, some overridden; return the bot's answer."""
        name = self.transcript.user_name(user)
        title = str((view.get("title") or {}).get("text", ""))
        submit = str((view.get("submit") or {}).get("text", "Submit"))
        labels = {block_id: label for block_id, label, _, _ in modal_inputs(view)}
        shown = ", ".join(
            f"{labels.get(k, k)}: {self.transcript.slack_text(f'<@{v}>') if _is_user(v) else v}"
            for k, v in (overrides or {}).items()
        )
        detail = f" ({shown})" if shown else ""
        self.transcript.note(_("{name} fills in “{title}”", name=name, title=title) + detail)
        self.transcript.note(_("{name} clicks [{label}]", name=name, label=submit))
        signed = self.world.signer.view_submission(
            user_id=user, user_name=name, callback_id=str(view.get("callback_id")),
            values=fill_view(view, overrides), view_id=str(view.get("id")),
            private_metadata=str(view.get("private_metadata") or ""),
            blocks=view.get("blocks"),
        )  # fmt: skip
        status, body = self._post(EVENTS_PATH, signed)
        errors = _view_errors(body)
        if errors:
            self.transcript.note(_("the modal says: {errors}", errors=errors))
        return status, body


def _is_user(value: Any) -> bool:
    return isinstance(value, str) and value[:1] in ("U", "W") and value[1:].isalnum()


def _reply_text(body: str) -> str:
    if not body.strip():
        return ""
    try:
        data = json.loads(body)
    except ValueError:
        return body.strip()
    return str(data.get("text") or "") if isinstance(data, dict) else ""


def _view_errors(body: str) -> str:
    try:
        data = json.loads(body) if body.strip() else {}
    except ValueError:
        return ""
    if isinstance(data, dict) and data.get("response_action") == "errors":
        return "; ".join(f"{k}: {v}" for k, v in (data.get("errors") or {}).items())
    return ""


class PagerDutyActor:
    """Trigger incidents in the fake PagerDuty and deliver its signed webhooks to the bot."""

    def __init__(self, world: World, transcript: Transcript) -> None:
        self.world = world
        self.transcript = transcript

    def trigger(self, title: str, *, alerts: int = 3) -> dict[str, Any]:
        """Open a PagerDuty incident and deliver its incident.triggered webhook."""
        state = self.world.pagerduty.state
        incident = state.add_incident(self.world.pd_service, title, alerts=alerts, urgency="high")
        self.transcript.note(
            _(
                "PagerDuty: {id} “{title}” triggered on service {service} ({alerts} alerts); "
                "webhook incident.triggered sent",
                id=incident["id"],
                title=title,
                service=self.world.pd_service["name"],
                alerts=alerts,
            )
        )
        body, headers = self.world.pagerduty.webhook(
            "incident.triggered", incident["id"], [WEBHOOK_SECRET]
        )
        status, answer = send(self.world.url + WEBHOOK_PATH, body.decode(), headers)
        if status != 202:
            raise DemoError(f"the webhook was refused: {status} {answer}")
        return incident
