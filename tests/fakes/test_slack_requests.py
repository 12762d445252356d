"""Signed requests pass Slack's own verification; tampered, stale or badly signed ones fail."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest
from slack_bolt import Ack, App
from slack_sdk.signature import SignatureVerifier

from bot.fakes.slack import FakeSlack
from bot.fakes.slack_requests import (
    SlackRequestSigner,
    button_action,
    plain_text_value,
    static_select_value,
    to_bolt_request,
    users_select_value,
)

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


@pytest.fixture
def signer() -> SlackRequestSigner:
    return SlackRequestSigner(SECRET)


def form(body: str) -> dict[str, str]:
    return {key: values[-1] for key, values in parse_qs(body).items()}


def test_slash_command_is_signed_and_carries_slacks_fields(signer: SlackRequestSigner) -> None:
    body, headers = signer.slash_command(user_id="U1", channel_id="C1", text="declare sev2 DB down")
    assert SignatureVerifier(SECRET).is_valid_request(body, headers)
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    fields = form(body)
    assert fields["command"] == "/incident" and fields["text"] == "declare sev2 DB down"
    assert fields["user_id"] == "U1" and fields["channel_id"] == "C1"
    assert fields["team_id"] == "T0001" and fields["response_url"].startswith("https://")
    trigger_parts = fields["trigger_id"].split(".")
    assert len(trigger_parts) == 3 and trigger_parts[0].isdigit() and trigger_parts[1].isdigit()


def test_view_submission_payload(signer: SlackRequestSigner) -> None:
    values = {
        "title": {"title": plain_text_value("DB down")},
        "severity": {"severity": static_select_value("SEV-2")},
        "commander": {"commander": users_select_value("U2")},
    }
    body, headers = signer.view_submission(
        user_id="U1", callback_id="declare", values=values, private_metadata="C1"
    )
    assert SignatureVerifier(SECRET).is_valid_request(body, headers)
    payload = json.loads(form(body)["payload"])
    assert payload["type"] == "view_submission"
    assert payload["view"]["callback_id"] == "declare"
    assert payload["view"]["private_metadata"] == "C1"
    assert payload["view"]["state"]["values"] == values
    assert payload["user"]["id"] == "U1"


def test_block_actions_payload_from_a_message(signer: SlackRequestSigner) -> None:
    message = {"type": "message", "ts": "1700000000.000100", "text": "kickoff"}
    body, headers = signer.block_actions(
        user_id="U1", channel_id="C1", message=message, actions=[button_action("resolve", "7")]
    )
    assert SignatureVerifier(SECRET).is_valid_request(body, headers)
    payload = json.loads(form(body)["payload"])
    assert payload["container"] == {
        "type": "message",
        "message_ts": "1700000000.000100",
        "channel_id": "C1",
        "is_ephemeral": False,
    }
    assert payload["channel"]["id"] == "C1" and payload["message"] == message
    assert payload["actions"][0]["action_id"] == "resolve" and payload["trigger_id"]


def test_event_callback_envelope_and_retry_headers(signer: SlackRequestSigner) -> None:
    body, headers = signer.message_event(
        channel="C1", user="U1", text="looking", event_id="Ev1", retry_num=1
    )
    assert SignatureVerifier(SECRET).is_valid_request(body, headers)
    envelope = json.loads(body)
    assert envelope["type"] == "event_callback" and envelope["event_id"] == "Ev1"
    assert envelope["team_id"] == "T0001" and isinstance(envelope["event_time"], int)
    assert envelope["event"]["type"] == "message" and envelope["event"]["text"] == "looking"
    assert headers["X-Slack-Retry-Num"] == "1"
    assert headers["X-Slack-Retry-Reason"] == "http_timeout"


@pytest.mark.parametrize(
    "options", [{"stale": True}, {"bad_signature": True}, {"timestamp": 1_000_000_000}]
)
def test_stale_or_badly_signed_requests_fail_verification(
    signer: SlackRequestSigner, options: Any
) -> None:
    body, headers = signer.slash_command(user_id="U1", channel_id="C1", **options)
    assert not SignatureVerifier(SECRET).is_valid_request(body, headers)


def test_tampered_body_or_wrong_secret_fails_verification(signer: SlackRequestSigner) -> None:
    body, headers = signer.slash_command(user_id="U1", channel_id="C1", text="sev 1")
    assert not SignatureVerifier(SECRET).is_valid_request(body.replace("sev+1", "sev+5"), headers)
    assert not SignatureVerifier("another-secret").is_valid_request(body, headers)


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    server = FakeSlack()
    server.start()
    yield server
    server.stop()


def bolt_app(fake: FakeSlack, seen: list[dict[str, Any]]) -> App:
    app = App(signing_secret=SECRET, client=fake.client(), token_verification_enabled=False)

    @app.command("/incident")
    def on_command(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        seen.append(body)

    @app.view("declare")
    def on_submit(ack: Ack, view: dict[str, Any]) -> None:
        ack()
        seen.append(view["state"]["values"])

    return app


def test_bolt_accepts_signed_requests_and_rejects_bad_ones(
    fake: FakeSlack, signer: SlackRequestSigner
) -> None:
    seen: list[dict[str, Any]] = []
    app = bolt_app(fake, seen)
    ok = app.dispatch(to_bolt_request(*signer.slash_command(user_id="U1", channel_id="C1")))
    assert ok.status == 200 and seen[0]["user_id"] == "U1"
    values = {"title": {"title": plain_text_value("DB down")}}
    submitted = signer.view_submission(user_id="U1", callback_id="declare", values=values)
    assert app.dispatch(to_bolt_request(*submitted)).status == 200
    assert seen[1] == values
    for options in ({"stale": True}, {"bad_signature": True}):
        request = signer.slash_command(user_id="U1", channel_id="C1", **options)  # type: ignore[arg-type]
        assert app.dispatch(to_bolt_request(*request)).status == 401
    assert len(seen) == 2
