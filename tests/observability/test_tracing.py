"""OpenTelemetry spans, through the real Bolt app, with the SDK's in-memory exporter."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from bot.observability.tracing import build_tracer_provider, tracer, tracing_wanted
from tests.harness import Harness


def by_name(spans: InMemorySpanExporter) -> dict[str, list[ReadableSpan]]:
    found: dict[str, list[ReadableSpan]] = {}
    for span in spans.get_finished_spans():
        found.setdefault(span.name, []).append(span)
    return found


def test_declare_makes_request_flow_followup_and_vendor_spans(
    spans: InMemorySpanExporter, harness: Harness
) -> None:
    incident = harness.declare("declare sev2 Checkout is down")
    harness.settle()
    found = by_name(spans)

    [request] = found["slack commands /incident"]
    assert request.kind is SpanKind.SERVER
    trigger_id = request.attributes["slack.request_id"]
    assert trigger_id  # the slash command's trigger_id
    assert request.attributes["sevbot.incident.number"] == incident["number"]

    [declare] = found["declare"]
    assert declare.parent is not None and declare.parent.span_id == request.context.span_id

    # The channel is set up after the ack, in another thread: its span links to the request.
    [followup] = found["followup setup_incident"]
    assert followup.parent is None
    assert [link.context.span_id for link in followup.links] == [request.context.span_id]
    assert followup.attributes["sevbot.incident.number"] == incident["number"]
    assert followup.attributes["slack.request_id"] == trigger_id

    [setup] = found["setup"]
    assert setup.parent is not None and setup.parent.span_id == followup.context.span_id
    assert setup.attributes["sevbot.incident.id"] == incident["id"]

    # Every Slack call is a client span inside the setup trace, with the incident number.
    created = found["slack conversations.create"]
    posts = found["slack chat.postMessage"]
    for vendor in [*created, *posts]:
        assert vendor.kind is SpanKind.CLIENT
        assert vendor.context.trace_id == followup.context.trace_id
        assert vendor.attributes["sevbot.vendor"] == "slack"
        assert vendor.attributes["sevbot.incident.number"] == incident["number"]
    assert len(posts) >= 2  # kickoff and announcement, posted concurrently


def test_failed_vendor_call_marks_its_span(spans: InMemorySpanExporter, harness: Harness) -> None:
    harness.slack.fail_method("conversations.create", "restricted_action")
    harness.command("declare sev2 Checkout is down")
    harness.settle()
    [failed, *_] = by_name(spans)["slack conversations.create"]
    assert failed.status.status_code.name == "ERROR"
    assert failed.attributes["sevbot.vendor.outcome"] == "error"


def test_tracing_off_makes_no_span(harness: Harness) -> None:
    from opentelemetry import trace

    harness.declare()  # instrumented code runs without a provider: nothing is recorded
    assert tracer() is None
    assert not trace.get_tracer("sevbot").start_span("probe").is_recording()


@pytest.mark.parametrize(
    ("environ", "wanted"),
    [
        ({}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_TRACES_EXPORTER": "console"}, True),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, False),
    ],
)
def test_tracing_is_off_unless_the_standard_variables_ask(
    environ: dict[str, str], wanted: bool
) -> None:
    assert tracing_wanted(environ) is wanted
    assert (build_tracer_provider(environ) is not None) is wanted


class _Collector(BaseHTTPRequestHandler):
    received: list[tuple[str, bytes]] = []

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        """Keep test output quiet."""


@pytest.fixture
def collector() -> Iterator[tuple[str, list[tuple[str, bytes]]]]:
    received: list[tuple[str, bytes]] = []
    handler = type("Collector", (_Collector,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()


def test_spans_go_over_otlp_http_with_the_service_name(
    collector: tuple[str, list[tuple[str, bytes]]],
) -> None:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    url, received = collector
    provider = build_tracer_provider(
        {"OTEL_EXPORTER_OTLP_ENDPOINT": url, "OTEL_SERVICE_NAME": "sevbot-staging"}
    )
    assert provider is not None
    with provider.get_tracer("sevbot").start_as_current_span("probe"):
        pass
    provider.force_flush()
    provider.shutdown()
    [(path, body)] = received
    assert path == "/v1/traces"
    request = ExportTraceServiceRequest.FromString(body)
    [resource_spans] = request.resource_spans
    attributes = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
    assert attributes["service.name"] == "sevbot-staging"
    assert resource_spans.scope_spans[0].spans[0].name == "probe"
    assert (
        build_tracer_provider({"OTEL_EXPORTER_OTLP_ENDPOINT": url}).resource.attributes[
            "service.name"
        ]
        == "sevbot"
    )
