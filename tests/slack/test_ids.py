"""One source of Slack ids: each id the bot sends is declared; each one declared is sent, handled.

A scenario drives the real Bolt app through every surface that carries an id (kickoff buttons,
the four incident modals, nudges and the meeting modal, follow-up DMs and the Add modal, a
PagerDuty offer, App Home), and collects every payload the fake Slack received and every
ephemeral ack. Then:

- each action, block and callback id in those payloads is a value of `bot.slack.ids` (or starts
  with one of its prefixes), and each value declared there appears in them: no dead member;
- each button or select is handled: a signed block_actions for it reaches a listener (Bolt
  answers 404 when none matches, as it does for an undeclared id);
- each modal is handled: a signed view_submission for its callback reaches a listener;
- each input of a modal is read by the view listeners (`bot/slack/listeners/views/`).
"""

from __future__ import annotations

import ast
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest

from bot.db import session_scope, utcnow
from bot.followups.notify import run_followup_nudges
from bot.nudges.jobs import run_nudges
from bot.outbox import service as outbox_service
from bot.pagerduty.feature import WEBHOOK_PATH
from bot.slack import ids
from tests.harness import Harness, HttpServer, wait_until
from tests.pagerduty.conftest import SECRETS, SeededPagerDuty, fake_pd, local_ca, make_bot

__all__ = ["fake_pd", "local_ca", "make_bot"]  # fixtures used from the PagerDuty conftest

LISTENERS = Path(__file__).resolve().parents[2] / "bot" / "slack" / "listeners"
SENT_BY_SLACK_API = (
    "chat.postMessage",
    "chat.update",
    "chat.postEphemeral",
    "views.open",
    "views.update",
    "views.push",
    "views.publish",
)


def declared_enums() -> list[type[StrEnum]]:
    """Return every enum of bot.slack.ids."""
    return [
        value
        for value in vars(ids).values()
        if isinstance(value, type) and issubclass(value, StrEnum) and value is not StrEnum
    ]


PREFIXES = tuple(v for k, v in vars(ids).items() if k.endswith("_PREFIX") and isinstance(v, str))


@dataclass
class Seen:
    """Ids found in payloads: interactive elements, inputs, blocks and modal callbacks."""

    actions: dict[str, dict[str, Any]] = field(default_factory=dict)  # action id -> a click
    inputs: set[str] = field(default_factory=set)
    blocks: set[str] = field(default_factory=set)
    callbacks: set[str] = field(default_factory=set)

    def every_id(self) -> set[str]:
        """Return all ids seen."""
        return set(self.actions) | self.inputs | self.blocks | self.callbacks


def _as_json(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


BLOCK_TYPES = {"actions", "context", "divider", "header", "image", "input", "rich_text", "section"}


def _blocks(node: Any) -> Iterator[dict[str, Any]]:
    """Yield every layout block inside a payload (messages, views, attachments)."""
    node = _as_json(node)
    if isinstance(node, dict):
        if node.get("type") in BLOCK_TYPES:
            yield node
        for value in node.values():
            yield from _blocks(value)
    elif isinstance(node, list):
        for item in node:
            yield from _blocks(item)


def collect(payloads: list[Any], seen: Seen, where: str) -> None:
    """Record the ids of payloads; a click is remembered with the message it came from."""
    for payload in payloads:
        payload = _as_json(payload)
        for view in _views(payload):
            if view.get("callback_id"):
                seen.callbacks.add(view["callback_id"])
        for block in _blocks(payload):
            if block.get("block_id"):
                seen.blocks.add(block["block_id"])
            if block.get("type") == "input":
                element = block.get("element") or {}
                if element.get("action_id"):
                    seen.inputs.add(element["action_id"])
                continue
            elements = list(block.get("elements") or [])
            if block.get("accessory"):
                elements.append(block["accessory"])
            for element in elements:
                if isinstance(element, dict) and element.get("action_id"):
                    click = {**element, "block_id": block.get("block_id", "")}
                    seen.actions.setdefault(element["action_id"], {"click": click, "where": where})


def _views(payload: Any) -> Iterator[dict[str, Any]]:
    if isinstance(payload, dict):
        if payload.get("type") in ("modal", "home"):
            yield payload
        for value in payload.values():
            yield from _views(_as_json(value))
    elif isinstance(payload, list):
        for item in payload:
            yield from _views(item)


def slack_payloads(h: Harness) -> list[Any]:
    """Return every message, view and update the bot sent to the fake Slack."""
    found: list[Any] = []
    for method in SENT_BY_SLACK_API:
        for call in h.slack.calls_to(method):
            found.append({k: call.get(k) for k in ("blocks", "view", "attachments", "channel")})
    return found


def drain(h: Harness) -> None:
    """Wait for lazy listeners and for the outbox to send everything it holds."""
    h.settle()

    def drained() -> bool:
        with session_scope(h.deps.session_factory) as session:
            pending, _ = outbox_service.backlog(session=session)
        return pending == 0

    wait_until(drained, timeout=20, message="outbox drained")
    h.settle()


def _views_opened(h: Harness) -> int:
    return len(h.slack.calls_to("views.open"))


def _click(h: Harness, click: dict[str, Any], channel: str | None, user: str) -> Any:
    action: dict[str, Any] = {
        "type": click.get("type", "button"),
        "action_id": click["action_id"],
        "block_id": click.get("block_id", ""),
        "action_ts": "1700000000.000100",
    }
    if click.get("type") == "static_select":
        action["selected_option"] = (click.get("options") or [{}])[0]
    else:
        action["value"] = click.get("value", "")
    return h.dispatch(h.signer.block_actions(user_id=user, actions=[action], channel_id=channel))


def run_scenario(h: Harness, fake_pd: SeededPagerDuty) -> tuple[Seen, Callable[..., Any]]:
    """Drive every surface that carries ids; return what was seen and a way to click again."""
    seen = Seen()
    acks: list[Any] = []

    def command(text: str, channel: str, user: str | None = None) -> None:
        response = h.command(text, channel=channel, user=user)
        if response.body:
            acks.append(json.loads(response.body))
        drain(h)

    inc = h.declare("declare sev2 Checkout is down")
    channel = inc["channel"]
    command("declare", h.general)  # no title: the declare modal
    kickoff = [m for m in h.slack.messages(channel) if "blocks" in m]
    collect(kickoff, seen, channel)
    for action_id in (ids.IncidentAction.POST_UPDATE, ids.IncidentAction.CHANGE_SEVERITY):
        _click(h, seen.actions[action_id]["click"], channel, h.alice)
    _click(h, seen.actions[ids.IncidentAction.RESOLVE]["click"], channel, h.alice)
    drain(h)
    run_nudges(h.deps, now=utcnow() + timedelta(hours=2))  # the channel went quiet
    due = (utcnow() + timedelta(days=1)).date().isoformat()
    command(f"followup Add a queue alert <@{h.bob}> due {due}", channel)  # Bob gets a DM
    command("oncall checkout", channel)  # with a button inviting who is on call
    command("followups", channel)
    command("resolve Rolled back", channel)
    run_nudges(h.deps, now=utcnow() + timedelta(days=2))  # no postmortem meeting yet
    run_followup_nudges(h.deps, now=utcnow() + timedelta(days=3))  # the follow-up is overdue
    drain(h)
    collect(slack_payloads(h), seen, channel)
    opened = _views_opened(h)
    for action_id in (ids.FollowUpAction.ADD, ids.NudgeAction.SCHEDULE_MEETING):
        _click(h, seen.actions[action_id]["click"], channel, h.alice)
    drain(h)
    wait_until(lambda: _views_opened(h) >= opened + 2, message="Add and meeting modals opened")
    offer = fake_pd.state.add_incident(fake_pd.checkout, "Checkout 5xx", priority="P1")
    with HttpServer(h.bot) as server:
        body, headers = fake_pd.webhook("incident.triggered", offer["id"], SECRETS)
        assert server.post(WEBHOOK_PATH, (body.decode(), headers))[0] == 202
    wait_until(
        lambda: any(offer["id"] in json.dumps(m) for m in h.slack.messages(h.incidents_channel)),
        message="the PagerDuty offer was posted",
    )
    h.dispatch(h.signer.event({"type": "app_home_opened", "user": h.bob, "tab": "home"}))
    drain(h)
    collect(slack_payloads(h) + acks, seen, channel)
    return seen, lambda click: _click(h, click, channel, h.bob)


@pytest.fixture
def scenario(
    make_bot: Callable[..., Harness], fake_pd: SeededPagerDuty
) -> tuple[Harness, Seen, Callable[..., Any]]:
    h = make_bot()
    seen, click = run_scenario(h, fake_pd)
    return h, seen, click


def _declared(seen_id: str, values: set[str]) -> bool:
    return seen_id in values or seen_id.startswith(PREFIXES)


def test_every_id_sent_is_declared_and_every_declared_id_is_sent(
    scenario: tuple[Harness, Seen, Callable[..., Any]],
) -> None:
    _, seen, _ = scenario
    declared = {str(member) for enum in declared_enums() for member in enum}
    assert sorted(i for i in seen.every_id() if not _declared(i, declared)) == []
    assert sorted(declared - seen.every_id()) == []
    for prefix in PREFIXES:
        assert any(block.startswith(prefix) for block in seen.blocks), prefix
    # Each kind of enum holds its kind of id: buttons are clicked, inputs are typed in.
    for enum in declared_enums():
        members = {str(m) for m in enum}
        kind = enum.__name__.removeprefix("Incident").removeprefix("Nudge")
        kind = kind.removeprefix("PagerDuty").removeprefix("FollowUp")
        pool = {
            "Action": set(seen.actions),
            "Input": seen.inputs,
            "Block": seen.blocks,
            "Callback": seen.callbacks,
        }[kind]
        assert members <= pool, enum.__name__


def test_every_button_and_select_sent_reaches_a_listener(
    scenario: tuple[Harness, Seen, Callable[..., Any]],
) -> None:
    h, seen, click = scenario
    assert seen.actions
    unhandled = {a: click(c["click"]).status for a, c in seen.actions.items()}
    assert {a: s for a, s in unhandled.items() if s == 404 or s >= 500} == {}
    # The check can fail: an id no listener knows is answered 404.
    assert click({"action_id": "not_a_declared_action", "value": "1"}).status == 404


def test_every_modal_sent_reaches_a_listener(
    scenario: tuple[Harness, Seen, Callable[..., Any]],
) -> None:
    h, seen, _ = scenario

    def submit(callback_id: str) -> int:
        signed = h.signer.view_submission(user_id=h.alice, callback_id=callback_id, values={})
        return int(h.dispatch(signed).status)

    assert seen.callbacks
    assert {c: s for c in seen.callbacks if (s := submit(c)) == 404 or s >= 500} == {}
    assert submit("not_a_declared_modal") == 404


def _referenced_members(root: Path) -> set[tuple[str, str]]:
    """Return every `Enum.MEMBER` attribute used in the modules under root."""
    found = set()
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                found.add((node.value.id, node.attr))
    return found


def test_every_modal_input_is_read_by_a_view_listener() -> None:
    read = _referenced_members(LISTENERS / "views")
    inputs = [e for e in declared_enums() if e.__name__.endswith("Input")]
    assert inputs
    unread = [
        f"{e.__name__}.{m.name}" for e in inputs for m in e if (e.__name__, m.name) not in read
    ]
    assert unread == []
    input_blocks = [
        f"{e.__name__}.{m.name}"
        for e in declared_enums()
        if e.__name__.endswith("Block")
        for m in e
        if m.name != "ACTIONS" and (e.__name__, m.name) not in read
    ]
    assert input_blocks == []
