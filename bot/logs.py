"""structlog set-up. Secrets never reach the logs: a processor masks anything token-shaped.

Each line carries what is bound for the work at hand: the incident number (`incident`), the
Slack request id (`slack_request_id`) and, when tracing is on, the trace id (`trace_id`).
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import structlog

from bot.observability.tracing import current_trace_id

_TOKEN = re.compile(
    r"(xox[abposr]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|secret_[A-Za-z0-9]+|ntn_[A-Za-z0-9]+)"
)


def mask_secrets(_logger: Any, _method: str, event: dict[str, Any]) -> dict[str, Any]:
    """Replace token-shaped substrings in every string field."""
    for key, value in list(event.items()):
        if isinstance(value, str):
            event[key] = _TOKEN.sub("[redacted]", value)
    return event


def add_trace_id(_logger: Any, _method: str, event: dict[str, Any]) -> dict[str, Any]:
    """Add the current trace id, so a log line leads to its trace (only when tracing is on)."""
    if "trace_id" not in event:
        trace_id = current_trace_id()
        if trace_id:
            event["trace_id"] = trace_id
    return event


def configure_logging(level: str = "INFO", fmt: str = "console") -> None:
    """Route structlog and stdlib logging to stderr, as text or JSON lines."""
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        add_trace_id,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        mask_secrets,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(foreign_pre_chain=shared, processor=renderer)
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("apscheduler", "waitress.queue"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
