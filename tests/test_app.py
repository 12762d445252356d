"""Building the Bolt app in Socket Mode and HTTP mode."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

import pytest
from slack_bolt import BoltRequest
from sqlalchemy import Engine

from bot.app import create_app
from bot.deps import build_deps
from bot.fakes.slack import FakeSlack
from bot.fakes.slack_requests import SlackRequestSigner
from bot.features import install_features
from tests.harness import make_settings


def _help_command() -> dict[str, str]:
    body, _ = SlackRequestSigner("unused").slash_command(user_id="U1", channel_id="C1", text="help")
    return dict(parse_qsl(body))


def test_socket_mode_needs_no_signing_secret(fake_slack: FakeSlack, clean_engine: Engine) -> None:
    settings = make_settings(
        fake_slack, clean_engine, slack_signing_secret=None, slack_app_token="xapp-1-test"
    )
    assert settings.socket_mode
    app = create_app(settings, install_features(build_deps(settings, engine=clean_engine)))
    # Socket Mode payloads arrive over the authenticated WebSocket, unsigned.
    response = app.dispatch(BoltRequest(body=_help_command(), mode="socket_mode"))
    assert response.status == 200 and "/incident declare" in json.loads(response.body)["text"]


def test_http_mode_requires_and_checks_the_signing_secret(
    fake_slack: FakeSlack, clean_engine: Engine
) -> None:
    settings = make_settings(fake_slack, clean_engine, slack_signing_secret=None)
    with pytest.raises(ValueError, match="SLACK_SIGNING_SECRET is required"):
        create_app(settings, build_deps(settings, engine=clean_engine))
    signed = make_settings(fake_slack, clean_engine)
    app = create_app(signed, install_features(build_deps(signed, engine=clean_engine)))
    unsigned = BoltRequest(body="&".join(f"{k}={v}" for k, v in _help_command().items()))
    assert app.dispatch(unsigned).status == 401
