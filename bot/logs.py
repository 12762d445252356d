"""structlog set-up. Secrets never reach the logs.

Two layers: every configured secret value (tokens, signing and webhook secrets, the database
password) is replaced wherever it appears in a finished log line, tracebacks and foreign
libraries' messages included; and anything token-shaped is masked too, for secrets the bot
was never told about (a token pasted into an incident title, say).

Each line carries what is bound for the work at hand: the incident number (`incident`), the
Slack request id (`slack_request_id`) and, when tracing is on, the trace id (`trace_id`).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any
from urllib.parse import quote, quote_plus

import structlog

from bot.observability.tracing import current_trace_id

_TOKEN = re.compile(
    r"(xox[abposre]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|secret_[A-Za-z0-9]+|ntn_[A-Za-z0-9]+)"
)
REDACTED = "[redacted]"
MIN_SECRET_LENGTH = 4  # shorter values would mask ordinary words


class SecretMask:
    """Replace known secret values (and token shapes) in text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        variants = {
            form
            for secret in secrets
            if len(secret) >= MIN_SECRET_LENGTH
            for form in (secret, quote(secret, safe=""), quote_plus(secret), repr(secret)[1:-1])
        }
        # Longest first, so a secret that contains another is masked whole.
        ordered = sorted(variants, key=len, reverse=True)
        self._known = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def __call__(self, text: str) -> str:
        """Return text with every secret masked."""
        if self._known is not None:
            text = self._known.sub(REDACTED, text)
        return _TOKEN.sub(REDACTED, text)


def mask_secrets(_logger: Any, _method: str, event: dict[str, Any]) -> dict[str, Any]:
    """Replace token-shaped substrings in every string field."""
    for key, value in list(event.items()):
        if isinstance(value, str):
            event[key] = _TOKEN.sub(REDACTED, value)
    return event


def add_trace_id(_logger: Any, _method: str, event: dict[str, Any]) -> dict[str, Any]:
    """Add the current trace id, so a log line leads to its trace (only when tracing is on)."""
    if "trace_id" not in event:
        trace_id = current_trace_id()
        if trace_id:
            event["trace_id"] = trace_id
    return event


def secret_values(settings: Any) -> list[str]:
    """Return every secret in the settings: SecretStr fields (comma lists split) and the
    database password."""
    from pydantic import SecretStr
    from sqlalchemy import make_url

    found: list[str] = []
    for name in type(settings).model_fields:
        value = getattr(settings, name, None)
        if isinstance(value, SecretStr):
            raw = value.get_secret_value()
            found += [raw, *(part.strip() for part in raw.split(",") if part.strip())]
    try:
        password = make_url(settings.database_url).password
    except Exception:  # an unparseable URL has no password we could find
        password = None
    if password:
        found.append(str(password))
    return found


def configure_logging(
    level: str = "INFO", fmt: str = "console", secrets: Iterable[str] = ()
) -> None:
    """Route structlog and stdlib logging to stderr, as text or JSON lines, secrets masked."""
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    mask = SecretMask(secrets)

    def render_masked(logger: Any, method: str, event: MutableMapping[str, Any]) -> str:
        return mask(str(renderer(logger, method, event)))

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
        structlog.stdlib.ProcessorFormatter(foreign_pre_chain=shared, processor=render_masked)
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("apscheduler", "waitress.queue"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
