"""JSON log lines carry the incident number, the Slack request id and the trace id."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import structlog
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from bot.logs import configure_logging
from tests.harness import Harness


@contextmanager
def configured(fmt: str) -> Iterator[io.StringIO]:
    """Configure sevbot's logging, writing to a buffer; restore logging afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    buffer = io.StringIO()
    try:
        configure_logging("INFO", fmt)
        handler = root.handlers[0]
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(buffer)
        yield buffer
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        structlog.reset_defaults()


def test_json_lines_carry_incident_request_and_trace(
    spans: InMemorySpanExporter, harness: Harness
) -> None:
    with configured("json") as buffer:
        incident = harness.declare("declare sev2 Checkout is down")
        harness.settle()
    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]

    [ready] = [line for line in lines if line["event"] == "incident_ready"]
    [followup] = [s for s in spans.get_finished_spans() if s.name == "followup setup_incident"]
    assert ready["incident"] == incident["number"]
    assert ready["slack_request_id"] == followup.attributes["slack.request_id"]
    assert ready["trace_id"] == format(followup.context.trace_id, "032x")
    assert ready["level"] == "info" and ready["timestamp"].endswith("Z")


def test_console_lines_without_tracing_have_no_trace_id() -> None:
    with configured("console") as buffer:
        log = structlog.get_logger("sevbot.test")
        with structlog.contextvars.bound_contextvars(incident=7, slack_request_id="Ev1"):
            log.info("something_happened", token="xoxb-123-secret")
    err = buffer.getvalue()
    assert "something_happened" in err and "incident=7" in err and "slack_request_id=Ev1" in err
    assert "trace_id" not in err
    assert "xoxb-123-secret" not in err
