"""Around Bolt's dispatch: one span, one ack timing and the log context per Slack request.

Not a Bolt middleware: a sync Bolt middleware returns before the listeners run, so it could
neither time the ack nor be the parent of the listener's spans.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import structlog
from opentelemetry.trace import SpanKind
from slack_bolt.request import BoltRequest
from slack_bolt.request.payload_utils import (
    is_action,
    is_event,
    is_options,
    is_shortcut,
    is_slash_command,
    is_view,
)
from slack_bolt.response import BoltResponse

from bot.observability import metrics
from bot.observability.tracing import carrier, flow_span

TRACE_CARRIER_KEY = "sevbot_trace"
REQUEST_ID_KEY = "sevbot_request_id"


def request_kind(body: dict[str, Any]) -> str:
    """Return commands, actions, views, events, options or shortcuts (the ack_seconds label)."""
    if is_slash_command(body):
        return "commands"
    if is_action(body):
        return "actions"
    if is_view(body):
        return "views"
    if is_event(body):
        return "events"
    if is_options(body):
        return "options"
    if is_shortcut(body):
        return "shortcuts"
    return "other"


def slack_request_id(body: dict[str, Any]) -> str | None:
    """Return Slack's id of this request: the event id, else the interaction's trigger id."""
    value = body.get("event_id") or body.get("trigger_id")
    return str(value) if value else None


def observe_slack_request(
    req: BoltRequest, dispatch: Callable[[BoltRequest], BoltResponse]
) -> BoltResponse:
    """Trace and time a Slack request up to its ack, with the request id bound for logs."""
    started = time.perf_counter()
    body = req.body
    kind = request_kind(body)
    request_id = slack_request_id(body)
    name = body.get("command") or body.get("type") or kind
    if kind == "events":
        name = (body.get("event") or {}).get("type") or name
    bound = {"slack_request_id": request_id} if request_id else {}
    with (
        structlog.contextvars.bound_contextvars(**bound),
        flow_span(f"slack {kind} {name}", kind=SpanKind.SERVER) as span,  # takes the request id
    ):
        if span.is_recording():
            req.context[TRACE_CARRIER_KEY] = carrier()
        req.context[REQUEST_ID_KEY] = request_id
        try:
            return dispatch(req)
        finally:
            metrics.ack_seconds.labels(kind).observe(time.perf_counter() - started)
            structlog.contextvars.unbind_contextvars("incident")  # bound by the flow, if any
