"""Bind an incident and the Slack request that caused some work to its logs and its span."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import structlog
from opentelemetry.trace import Span
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.observability.slack_requests import REQUEST_ID_KEY, TRACE_CARRIER_KEY
from bot.observability.tracing import INCIDENT_ID, INCIDENT_NUMBER, flow_span, links_from


def incident_number(session_factory: sessionmaker[Session], incident_id: int) -> int | None:
    """Return the number of an incident by id (None when it does not exist)."""
    from bot.incidents.models import Incident

    with session_factory() as session:
        return session.scalar(select(Incident.number).where(Incident.id == incident_id))


def bind_incident(number: int | None) -> None:
    """Put an incident number on this thread's log lines and on the current span."""
    if number is None:
        return
    structlog.contextvars.bind_contextvars(incident=number)
    from opentelemetry import trace

    span = trace.get_current_span()
    if span.is_recording():
        span.set_attribute(INCIDENT_NUMBER, number)


@contextmanager
def followup_span(
    name: str,
    args: Mapping[str, Any],
    session_factory: sessionmaker[Session],
    cause: Mapping[str, Any] | None = None,
) -> Iterator[Span]:
    """Run background work in a span linked to the Slack request that asked for it."""
    cause = cause or {}
    incident_id = args.get("incident_id")
    number = incident_number(session_factory, incident_id) if isinstance(incident_id, int) else None
    bound = {"slack_request_id": cause.get(REQUEST_ID_KEY), "incident": number}
    with (
        structlog.contextvars.bound_contextvars(**{k: v for k, v in bound.items() if v}),
        flow_span(
            f"followup {name}", links=links_from(cause.get(TRACE_CARRIER_KEY)), root=True
        ) as span,
    ):
        if isinstance(incident_id, int) and span.is_recording():
            span.set_attribute(INCIDENT_ID, incident_id)
        yield span
