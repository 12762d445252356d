"""The default path: the real Bolt app over Socket Mode with the real client, on the fake server."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine, select

from bot.db import session_scope
from bot.fakes.slack import FakeSlack
from bot.fakes.slack_requests import (
    button_action,
    multi_users_select_value,
    plain_text_value,
    static_select_value,
    users_select_value,
)
from bot.fakes.slack_socket import Ack, FakeSocketMode
from bot.incidents.models import ChannelMessage, Incident
from bot.nudges.jobs import run_nudges
from bot.runtime import serve_socket_mode
from bot.slack.ids import IncidentAction, IncidentBlock, IncidentCallback, IncidentInput
from bot.socket_mode import SocketModeConnection
from tests.harness import Harness, start_harness, wait_until
from tests.nudges.conftest import nudge_messages


@dataclass
class SocketHarness:
    """A bot connected over Socket Mode to the fake server."""

    h: Harness
    socket: FakeSocketMode
    connection: SocketModeConnection

    def send(self, signed: tuple[str, dict[str, str]]) -> Ack:
        """Deliver a request as an envelope and return the app's ack."""
        return self.socket.wait_for_ack(self.socket.deliver(signed))

    def command(self, text: str, *, channel: str | None = None, user: str | None = None) -> Ack:
        """Run /incident <text> over Socket Mode."""
        return self.send(
            self.h.signer.slash_command(
                user_id=user or self.h.alice, channel_id=channel or self.h.general, text=text
            )
        )


@pytest.fixture
def socket_mode(fake_slack: FakeSlack) -> Iterator[FakeSocketMode]:
    """Yield a started fake Socket Mode server beside the fake Web API."""
    fake = FakeSocketMode(fake_slack).start()
    yield fake
    fake.stop()


@pytest.fixture
def sh(
    fake_slack: FakeSlack, socket_mode: FakeSocketMode, clean_engine: Engine
) -> Iterator[SocketHarness]:
    """Yield a bot connected over Socket Mode (the default client)."""
    h = start_harness(
        fake_slack, clean_engine, slack_app_token=socket_mode.app_token, update_nudge_after="2s"
    )
    connection = serve_socket_mode(h.bot)
    socket_mode.wait_for_connections(1)
    yield SocketHarness(h, socket_mode, connection)
    connection.close()
    h.bot.close()


def _incident(h: Harness, number: int) -> Incident | None:
    with session_scope(h.deps.session_factory) as session:
        row = session.scalars(select(Incident).where(Incident.number == number)).one_or_none()
        if row is None or row.setup_done_at is None:
            return None
        session.expunge(row)
        return row


def _ready(h: Harness, number: int) -> Incident:
    return wait_until(lambda: _incident(h, number), message=f"INC-{number} set up")


def _declare_values(h: Harness, title: str) -> dict[str, Any]:
    return {
        IncidentBlock.TITLE: {IncidentInput.TITLE: plain_text_value(title)},
        IncidentBlock.SEVERITY: {IncidentInput.SEVERITY: static_select_value("SEV-3")},
        IncidentBlock.DESCRIPTION: {IncidentInput.DESCRIPTION: plain_text_value("Orders time out")},
        IncidentBlock.COMMANDER: {IncidentInput.COMMANDER: users_select_value(h.bob)},
        IncidentBlock.INVITEES: {IncidentInput.INVITEES: multi_users_select_value([h.carol])},
    }


def _nudges(h: Harness, channel: str) -> list[dict[str, Any]]:
    return nudge_messages(h, channel)


def test_incident_lifecycle_over_socket_mode(sh: SocketHarness) -> None:
    h, socket = sh.h, sh.socket
    # Declare inline: the ack carries the response payload, the envelope says it may.
    ack = sh.command("declare sev2 Checkout is down")
    assert socket.envelopes[0].accepts_response_payload
    assert ack.payload is not None and "Declaring INC-1 (SEV-2)" in ack.payload["text"]
    first = _ready(h, 1)
    channel = first.channel_id
    assert channel and h.slack.channel(channel)["name"].startswith("inc-1-checkout-is-down")

    # Declare through the modal.
    sh.command("")
    opened = wait_until(lambda: h.slack.calls_to("views.open"))
    view = opened[0]["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["callback_id"] == IncidentCallback.DECLARE
    sh.send(
        h.signer.view_submission(
            user_id=h.alice,
            callback_id=IncidentCallback.DECLARE,
            values=_declare_values(h, "Search is slow"),
        )
    )
    second = _ready(h, 2)
    assert second.severity == "SEV-3" and second.commander_id == h.bob

    # A human message is recorded (time and author).
    sh.send(h.signer.message_event(channel=channel, user=h.bob, text="looking at the LB"))

    def recorded() -> list[str]:
        h.deps.incidents.activity.flush()
        with session_scope(h.deps.session_factory) as session:
            rows = session.scalars(
                select(ChannelMessage).where(ChannelMessage.incident_id == first.id)
            ).all()
            return [r.user_id for r in rows]

    assert wait_until(recorded) == [h.bob]

    # An update.
    sh.command("update Rolled back the deploy", channel=channel)
    wait_until(
        lambda: any("Rolled back the deploy" in str(m) for m in h.slack.messages(channel)),
        message="update posted",
    )

    # A nudge once the channel is quiet (UPDATE_NUDGE_AFTER=2s), with its buttons.
    def nudged() -> list[dict[str, Any]]:
        run_nudges(h.deps)
        return _nudges(h, channel)

    [nudge] = wait_until(nudged, message="update nudge")
    views_before = len(h.slack.calls_to("views.open"))
    ack = sh.send(
        h.signer.block_actions(
            user_id=h.bob,
            channel_id=channel,
            message=nudge,
            actions=[button_action(IncidentAction.POST_UPDATE)],
        )
    )
    assert ack.payload is None  # block_actions acks carry no payload
    wait_until(lambda: len(h.slack.calls_to("views.open")) > views_before, message="update modal")
    kickoff = h.slack.messages(channel)[0]
    sh.send(
        h.signer.block_actions(
            user_id=h.alice,
            channel_id=channel,
            message=kickoff,
            actions=[button_action(IncidentAction.RESOLVE)],
        )
    )
    wait_until(lambda: len(h.slack.calls_to("views.open")) > views_before + 1, message="resolve")

    # Resolve.
    sh.command("resolve Bad deploy rolled back", channel=channel)
    wait_until(lambda: "resolved" in h.slack.channel(channel)["topic"]["value"])
    with session_scope(h.deps.session_factory) as session:
        row = session.get(Incident, first.id)
        assert row is not None and row.status == "resolved"


def test_retried_envelope_is_processed_once(sh: SocketHarness) -> None:
    h, socket = sh.h, sh.socket
    sh.command("declare sev3 Queue backlog")
    inc = _ready(h, 1)
    assert inc.channel_id
    event = h.signer.message_event(
        channel=inc.channel_id, user=h.carol, text="on it", event_id="Ev0RETRY1"
    )
    first = socket.deliver(event)
    assert first.retry_attempt == 0 and not first.accepts_response_payload
    retry = socket.redeliver(first)
    assert retry.retry_attempt == 1 and retry.retry_reason == "timeout"
    assert retry.envelope_id != first.envelope_id
    socket.wait_for_ack(first)
    socket.wait_for_ack(retry)  # acked, so Slack stops retrying
    h.settle()
    with session_scope(h.deps.session_factory) as session:
        rows = session.scalars(
            select(ChannelMessage).where(ChannelMessage.incident_id == inc.id)
        ).all()
        assert [r.user_id for r in rows] == [h.carol]


def test_two_connections_both_receive_envelopes(sh: SocketHarness) -> None:
    h, socket = sh.h, sh.socket
    second = serve_socket_mode(h.bot)  # a second connection (as a second replica would open)
    try:
        live = socket.wait_for_connections(2)
        acks = [sh.command("help") for _ in range(4)]
        assert {a.connection for a in acks} == set(live)
        assert all(a.payload and "/incident" in a.payload["text"] for a in acks)
        sh.command("declare sev4 Both connections work")
        assert _ready(h, 1).title == "Both connections work"
    finally:
        second.close()


def test_reconnects_after_a_disconnect_message_and_a_dropped_connection(
    sh: SocketHarness,
) -> None:
    socket = sh.socket
    [first] = socket.live_connections()
    started = time.monotonic()
    socket.disconnect("refresh_requested")
    refreshed = socket.wait_for_new_connection(first, timeout=10)
    socket.drop_tcp()
    sent = socket.deliver(
        sh.h.signer.slash_command(user_id=sh.h.alice, channel_id=sh.h.general, text="help")
    )
    socket.wait_for_new_connection(refreshed, timeout=10)
    assert socket.wait_for_ack(sent, timeout=10).connection > refreshed
    assert time.monotonic() - started < 20  # loose: the benchmark measures it


def test_apps_connections_open_wants_the_app_token(
    fake_slack: FakeSlack, socket_mode: FakeSocketMode
) -> None:
    client = fake_slack.client()
    assert client.apps_connections_open(app_token=socket_mode.app_token)["url"].startswith(
        f"ws://127.0.0.1:{socket_mode.port}/link/?ticket="
    )
    from slack_sdk.errors import SlackApiError

    with pytest.raises(SlackApiError) as bot_token:
        client.apps_connections_open(app_token=fake_slack.bot_token)
    assert bot_token.value.response["error"] == "not_allowed_token_type"
    with pytest.raises(SlackApiError) as wrong:
        client.apps_connections_open(app_token="xapp-1-A0001-1-wrong")
    assert wrong.value.response["error"] == "invalid_auth"


def test_a_ticket_opens_one_connection_and_hello_comes_first(
    fake_slack: FakeSlack, socket_mode: FakeSocketMode
) -> None:
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    url = fake_slack.client().apps_connections_open(app_token=socket_mode.app_token)["url"]
    queued = socket_mode.send_envelope("events_api", {"type": "event_callback"})
    with connect(url) as ws:
        hello = json.loads(ws.recv(timeout=5))
        assert hello["type"] == "hello" and hello["num_connections"] == 1
        envelope = json.loads(ws.recv(timeout=5))  # queued while no connection was open
        assert envelope["envelope_id"] == queued.envelope_id
        assert envelope["retry_attempt"] == 0 and envelope["accepts_response_payload"] is False
        ws.send(json.dumps({"envelope_id": queued.envelope_id}))
        assert socket_mode.wait_for_ack(queued).payload is None
        with pytest.raises(InvalidStatus) as reused:
            connect(url)
        assert reused.value.response.status_code == 401
