"""The log mask: configured secret values and token shapes never survive into a log line."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from urllib.parse import quote

import pytest
import structlog

from bot.logs import configure_logging, secret_values
from bot.settings import Settings


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    buffer = io.StringIO()
    yield buffer
    root.handlers[:], root.level = saved
    structlog.reset_defaults()


def test_configured_secrets_are_masked_in_messages_fields_and_tracebacks(
    captured: io.StringIO,
) -> None:
    settings = Settings(
        slack_bot_token="xoxb-1-abc",
        slack_signing_secret="plain-signing-value",
        pagerduty_webhook_secret="hook-one,hook-two",
        database_url="postgresql://u:p%40ss-word@db/x",
    )
    secrets = secret_values(settings)
    assert {"plain-signing-value", "hook-one", "hook-two", "p@ss-word"} <= set(secrets)
    for fmt in ("console", "json"):
        configure_logging("DEBUG", fmt, secrets)
        logging.getLogger().handlers[0].setStream(captured)  # type: ignore[attr-defined]
        structlog.get_logger("t").info("saw plain-signing-value", token="hook-two")
        logging.getLogger("vendor").debug("url postgresql://u:%s@db", quote("p@ss-word"))
        try:
            raise RuntimeError("boom p@ss-word hook-one")
        except RuntimeError:
            structlog.get_logger("t").exception("failed")
    out = captured.getvalue()
    assert "[redacted]" in out and "Traceback" in out
    for secret in ("plain-signing-value", "hook-one", "hook-two", "p@ss-word", "p%40ss-word"):
        assert secret not in out, secret


def test_token_shapes_are_masked_without_being_configured(captured: io.StringIO) -> None:
    configure_logging("INFO", "console")
    logging.getLogger().handlers[0].setStream(captured)  # type: ignore[attr-defined]
    structlog.get_logger("t").info("pasted xoxb-123-456-abc and xapp-1-A-2 and ntn_abc123")
    out = captured.getvalue()
    assert "xoxb-123" not in out and "xapp-1" not in out and "ntn_abc" not in out
