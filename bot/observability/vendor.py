"""One wrapper for every vendor call: a client span, a duration and an outcome counter."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from opentelemetry.trace import INVALID_SPAN, Span, SpanKind, Status, StatusCode

from bot.observability import metrics
from bot.observability.tracing import annotate, tracer

Classifier = Callable[[BaseException], str]


class VendorCall:
    """What the caller learned about a call that returned (a 429 answered without raising)."""

    def __init__(self) -> None:
        self.outcome = "ok"

    def answered(self, status: int) -> None:
        """Record the HTTP status of an answer the client handed back instead of raising."""
        if status == 429:
            self.outcome = "ratelimited"
        elif status == 408:
            self.outcome = "timeout"
        elif status >= 400:
            self.outcome = "error"
        else:
            self.outcome = "ok"


@contextmanager
def vendor_call(vendor: str, method: str, classify: Classifier) -> Iterator[VendorCall]:
    """Time one vendor call, count its outcome and trace it; exceptions pass through."""
    call = VendorCall()
    started = time.perf_counter()
    with _client_span(vendor, method) as span:
        try:
            yield call
        except BaseException as exc:
            call.outcome = classify(exc)
            raise
        finally:
            metrics.vendor_seconds.labels(vendor, method).observe(time.perf_counter() - started)
            metrics.vendor_requests.labels(vendor, method, call.outcome).inc()
            if call.outcome != "ok" and span.is_recording():
                span.set_attribute("sevbot.vendor.outcome", call.outcome)
                span.set_status(Status(StatusCode.ERROR, call.outcome))


@contextmanager
def _client_span(vendor: str, method: str) -> Iterator[Span]:
    active = tracer()
    if active is None:
        yield INVALID_SPAN
        return
    with active.start_as_current_span(
        f"{vendor} {method}",
        kind=SpanKind.CLIENT,
        attributes={"sevbot.vendor": vendor, "sevbot.vendor.method": method},
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        annotate(span)
        yield span
