"""Socket Mode envelopes get the shape checks of the HTTP front door: refused, never half-run.

Over HTTP a malformed body is answered 400 before Bolt sees it. Over Socket Mode the envelope
reaches Bolt already parsed, so the app's first middleware checks it: a refused envelope is not
acked (Bolt answers 400), logged with its problem, runs no listener and changes no row.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from bot.fakes.slack import FakeSlack
from bot.fakes.slack_socket import FakeSocketMode
from bot.runtime import serve_socket_mode
from bot.slack.ids import IncidentAction, IncidentCallback
from tests.harness import Harness, start_harness
from tests.hostile.conftest import snapshot
from tests.observability.test_logs import configured


@pytest.fixture
def bot(fake_slack: FakeSlack, clean_engine: Engine) -> Iterator[tuple[Harness, FakeSocketMode]]:
    socket = FakeSocketMode(fake_slack).start()
    h = start_harness(fake_slack, clean_engine, slack_app_token=socket.app_token)
    connection = serve_socket_mode(h.bot)
    socket.wait_for_connections(1)
    yield h, socket
    connection.close()
    h.bot.close()
    socket.stop()


def _click(h: Harness, **changes: Any) -> dict[str, Any]:
    payload = {
        "type": "block_actions",
        "user": {"id": h.alice, "username": "alice", "team_id": "T1"},
        "team": {"id": "T1", "domain": "acme"},
        "api_app_id": "A1",
        "trigger_id": "1.2.3",
        "channel": {"id": h.general, "name": "general"},
        "container": {"type": "message", "channel_id": h.general, "message_ts": "1.000001"},
        "actions": [{"type": "button", "action_id": IncidentAction.POST_UPDATE, "value": "1"}],
    }
    return {**payload, **changes}


MALFORMED = {
    "actions-not-a-list": ("interactive", lambda h: _click(h, actions={"a": 1})),
    "no-user": ("interactive", lambda h: _click(h, user=None)),
    "user-is-a-broadcast": ("interactive", lambda h: _click(h, user={"id": "<!channel>"})),
    "view-state-a-list": (
        "interactive",
        lambda h: {
            "type": "view_submission",
            "user": {"id": h.alice},
            "view": {"callback_id": IncidentCallback.DECLARE, "state": {"values": []}},
        },
    ),
    "event-a-list": ("events_api", lambda h: {"type": "event_callback", "event": []}),
    "command-from-a-broadcast": (
        "slash_commands",
        lambda h: {"command": "/incident", "text": "declare x", "user_id": "<!channel>"},
    ),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_envelope_is_refused_and_changes_nothing(
    bot: tuple[Harness, FakeSocketMode], case: str
) -> None:
    h, socket = bot
    kind, build = MALFORMED[case]
    before = snapshot(h.deps.engine)
    with configured("console") as log:
        envelope = socket.send_envelope(kind, build(h))
        good = socket.deliver(
            h.signer.slash_command(user_id=h.alice, channel_id=h.general, text="help")
        )
        socket.wait_for_ack(good)  # the connection still serves; the bad one had its turn
        time.sleep(0.3)
        h.settle()
    assert socket.ack_for(envelope.envelope_id) is None
    text = log.getvalue()
    assert "slack_request_refused" in text and "malformed" in text
    assert "Traceback" not in text
    assert snapshot(h.deps.engine) == before


def test_the_first_middleware_refuses_what_no_front_door_checked(harness: Harness) -> None:
    """The threaded Socket Mode clients hand Bolt the envelope as is: the app checks it too."""
    h = harness
    before = snapshot(h.deps.engine)
    for bad in (_click(h, user={"id": "<!channel>"}), _click(h, channel={"id": ["C1"]})):
        response = h.dispatch(h.signer.interactivity(bad))
        assert response.status == 400 and "malformed Slack request" in response.body
    assert snapshot(h.deps.engine) == before
