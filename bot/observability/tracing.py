"""OpenTelemetry tracing: off unless OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_TRACES_EXPORTER is set.

Spans are made through the API's global tracer provider. Until one is configured, instrumented
code makes no span at all (not even a no-op one), so tracing off costs next to nothing.
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

import structlog
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import Link, Span, SpanKind

P = ParamSpec("P")
R = TypeVar("R")


INCIDENT_NUMBER = "sevbot.incident.number"
INCIDENT_ID = "sevbot.incident.id"
REQUEST_ID = "slack.request_id"


_cached: tuple[object, trace.Tracer] | None = None


def tracer() -> trace.Tracer | None:
    """Return sevbot's tracer from the global provider, or None while tracing is off.

    None lets instrumented code skip even a no-op span, so tracing off costs next to nothing.
    """
    global _cached
    provider = trace.get_tracer_provider()
    if isinstance(provider, trace.ProxyTracerProvider | trace.NoOpTracerProvider):
        return None
    if _cached is None or _cached[0] is not provider:
        _cached = (provider, provider.get_tracer("sevbot"))
    return _cached[1]


def tracing_wanted(environ: Mapping[str, str]) -> bool:
    """Say whether the standard OTEL_* variables ask for traces."""
    exporter = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter == "none":
        return False
    return bool(exporter or environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip())


def build_tracer_provider(environ: Mapping[str, str]) -> Any | None:
    """Return an SDK TracerProvider exporting as OTEL_* asks, or None when tracing is off."""
    if not tracing_wanted(environ):
        return None
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    name = environ.get("OTEL_SERVICE_NAME", "").strip() or "sevbot"
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: name}))
    kinds = [k.strip() for k in environ.get("OTEL_TRACES_EXPORTER", "otlp").lower().split(",")]
    for kind in kinds or ["otlp"]:
        if kind == "console":
            provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
        elif kind in {"otlp", ""}:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(_endpoint(environ))))
        else:
            raise ValueError(f"OTEL_TRACES_EXPORTER: {kind!r} is not one of otlp, console, none")
    return provider


def _endpoint(environ: Mapping[str, str]) -> str | None:
    """Return the traces URL the standard variables give (None: the exporter's default)."""
    traces = environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").strip()
    if traces:
        return traces
    base = environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
    return f"{base.rstrip('/')}/v1/traces" if base else None


def configure_tracing(environ: Mapping[str, str] | None = None) -> Any | None:
    """Install the tracer provider the environment asks for; return it (None when off)."""
    provider = build_tracer_provider(os.environ if environ is None else environ)
    if provider is not None:
        trace.set_tracer_provider(provider)
    return provider


def current_trace_id() -> str | None:
    """Return the current trace id as 32 hex digits, or None outside a recorded span."""
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


def carrier() -> dict[str, str]:
    """Return the current span context as W3C headers, to link later background work to it."""
    headers: dict[str, str] = {}
    propagate.inject(headers)
    return headers


def links_from(headers: Mapping[str, str] | None) -> list[Link]:
    """Return a link to the span recorded in `headers` by carrier(), if any."""
    if not headers:
        return []
    context = trace.get_current_span(propagate.extract(dict(headers))).get_span_context()
    return [Link(context)] if context.is_valid else []


def bound_log_context() -> dict[str, Any]:
    """Return the log context bound on this thread (incident number, Slack request id)."""
    return structlog.contextvars.get_contextvars()


def annotate(span: Span) -> None:
    """Copy the bound incident number and Slack request id onto a span."""
    if not span.is_recording():
        return
    bound = bound_log_context()
    if bound.get("incident") is not None:
        span.set_attribute(INCIDENT_NUMBER, int(bound["incident"]))
    if bound.get("slack_request_id"):
        span.set_attribute(REQUEST_ID, str(bound["slack_request_id"]))


@contextmanager
def flow_span(
    name: str,
    *,
    links: list[Link] | None = None,
    kind: SpanKind = SpanKind.INTERNAL,
    root: bool = False,
) -> Iterator[Span]:
    """Run a block inside a span carrying the bound incident number and Slack request id.

    A root span starts a trace of its own (background work linked to, not inside, the
    request that asked for it), even where the caller's context was copied into the thread.
    """
    active = tracer()
    if active is None:
        yield trace.INVALID_SPAN
        return
    parent = otel_context.Context() if root else None
    with active.start_as_current_span(name, context=parent, kind=kind, links=links) as span:
        annotate(span)
        yield span


def traced(name: str) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Wrap a flow function in a span; an `incident_id` argument is put on it."""

    def decorate(fn: Callable[P, R]) -> Callable[P, R]:
        signature = inspect.signature(fn)
        takes_incident = "incident_id" in signature.parameters

        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            with flow_span(name) as span:
                if takes_incident and span.is_recording():
                    incident_id = signature.bind_partial(*args, **kwargs).arguments.get(
                        "incident_id"
                    )
                    if isinstance(incident_id, int):
                        span.set_attribute(INCIDENT_ID, incident_id)
                return fn(*args, **kwargs)

        return wrapper

    return decorate
