"""Fixtures: an in-memory span exporter installed as the global tracer provider for one test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.test.globals_test import reset_trace_globals

from bot.fakes.notion import FakeNotion


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Turn tracing on for one test, exporting finished spans to memory; off again after."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    reset_trace_globals()
    trace.set_tracer_provider(provider)
    yield exporter
    provider.shutdown()
    reset_trace_globals()


@pytest.fixture
def fake_notion() -> Iterator[FakeNotion]:
    """Yield a started fake Notion API."""
    fake = FakeNotion()
    fake.start()
    yield fake
    fake.stop()
