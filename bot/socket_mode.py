"""Socket Mode: keep the Bolt app connected to Slack over a WebSocket, whatever the network does.

Bolt ships four Socket Mode adapters; SOCKET_MODE_CLIENT picks one (bench/socket_mode.py
measures them, the README says why aiohttp is the default). The asyncio adapters get their
own event loop in a daemon thread, and each envelope is dispatched to the (synchronous) Bolt
app on a worker thread, so a slow listener never holds up the keepalive pings.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
from typing import Any, Protocol

import structlog
from slack_bolt import App
from slack_bolt.adapter.socket_mode.async_internals import send_async_response
from slack_bolt.adapter.socket_mode.internals import run_bolt_app
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.request import SocketModeRequest

from bot.settings import Settings
from bot.slack.envelope import shape_problem

log = structlog.get_logger(__name__)

CLIENTS = ("aiohttp", "websockets", "websocket-client", "builtin")
_TICKET = re.compile(r"(ticket=)[^&'\"\s]+")
CLOSE_TIMEOUT = 1.5  # seconds; SIGTERM must end the process within 2 s


class SocketModeConnection(Protocol):
    """What the runtime needs of a Socket Mode client."""

    def connect(self) -> None:
        """Open the first connection (later ones are the client's job)."""

    def close(self) -> None:
        """Stop reconnecting and close the connection."""


def open_socket_mode(app: App, settings: Settings) -> SocketModeConnection:
    """Build the configured Socket Mode client for the app (not yet connected)."""
    assert settings.slack_app_token is not None, "Socket Mode needs SLACK_APP_TOKEN"
    token = settings.slack_app_token.get_secret_value()
    ping = settings.socket_mode_ping_interval.total_seconds()
    kind = settings.socket_mode_client
    if kind in ("aiohttp", "websockets"):
        return AsyncSocketMode(app, token, settings, kind=kind, ping_interval=ping)
    return ThreadedSocketMode(app, token, kind=kind, ping_interval=ping)


class ThreadedSocketMode:
    """The thread-based adapters as Bolt ships them (kept for bench/socket_mode.py to compare)."""

    def __init__(self, app: App, token: str, *, kind: str, ping_interval: float) -> None:
        if kind == "builtin":
            from slack_bolt.adapter.socket_mode.builtin import SocketModeHandler
        else:
            from slack_bolt.adapter.socket_mode.websocket_client import (  # type: ignore[assignment]
                SocketModeHandler,
            )
        self.kind = kind
        self.handler = SocketModeHandler(app, token, ping_interval=ping_interval)

    def connect(self) -> None:
        """Open the first connection."""
        self.handler.connect()
        log.info("socket_mode_connected", client=self.kind)

    def close(self) -> None:
        """Close the connection without waiting on in-flight reads."""
        closer = threading.Thread(target=self.handler.close, daemon=True)
        closer.start()
        closer.join(CLOSE_TIMEOUT)


class AsyncSocketMode:
    """The asyncio clients (aiohttp, websockets) on an event loop of their own."""

    def __init__(
        self, app: App, token: str, settings: Settings, *, kind: str, ping_interval: float
    ) -> None:
        self.app, self.token, self.settings = app, token, settings
        self.kind, self.ping_interval = kind, ping_interval
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="sevbot-socket-mode", daemon=True
        )
        self.client: Any = None

    def connect(self) -> None:
        """Start the loop and open the first connection; fail fast on a bad app token."""
        self.thread.start()
        timeout = self.settings.slack_timeout.total_seconds() + 5
        future = asyncio.run_coroutine_threadsafe(self._connect(), self.loop)
        try:
            future.result(timeout)
        except SlackApiError as exc:
            self.close()
            error = exc.response.get("error", "unknown_error")
            raise SocketModeError(f"apps.connections.open failed: {error}") from exc
        except TimeoutError:  # Slack is unreachable: the client keeps trying in the background
            log.warning("socket_mode_not_connected_yet", waited_s=timeout)

    def close(self) -> None:
        """Close the connection and stop the loop, giving up after CLOSE_TIMEOUT."""
        if self.thread.is_alive():
            closing = asyncio.run_coroutine_threadsafe(self._close(), self.loop)
            try:
                closing.result(CLOSE_TIMEOUT)
            except Exception as exc:  # a half-open socket must not hold up shutdown
                log.warning("socket_mode_close_incomplete", problem=repr(exc))
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(CLOSE_TIMEOUT)

    async def _close(self) -> None:
        if self.client is not None:
            await self.client.close()
        pending = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in pending:  # a connect still retrying, monitors, receivers
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def _connect(self) -> None:
        from slack_sdk.web.async_client import AsyncWebClient

        if self.kind == "aiohttp":
            from slack_sdk.socket_mode.aiohttp import SocketModeClient
        else:
            from slack_sdk.socket_mode.websockets import (  # type: ignore[assignment]
                SocketModeClient,
            )
        logger = sdk_logger(self.settings.log_level)
        web_client = AsyncWebClient(
            base_url=self.settings.slack_api_url,
            timeout=int(self.settings.slack_timeout.total_seconds()),
            logger=logger,
        )
        client_class = type("SevbotSocketModeClient", (_Reporting, SocketModeClient), {})
        self.client = client_class(
            app_token=self.token,
            logger=logger,
            web_client=web_client,
            ping_interval=self.ping_interval,
        )
        self.client.kind = self.kind
        self.client.socket_mode_request_listeners.append(self._dispatch)
        try:
            self.client.wss_uri = await self.client.issue_new_wss_url()
        except SlackApiError:
            raise  # a bad token: stop the start
        except Exception as exc:  # Slack unreachable: connect() below keeps trying
            log.warning("socket_mode_connect_failed", problem=f"{type(exc).__name__}: {exc}")
        await self.client.connect()

    async def _dispatch(self, client: Any, request: SocketModeRequest) -> None:
        """Shape-check the envelope, run the Bolt app on a worker thread, then ack on the loop.

        A malformed payload is refused before Bolt reads it (Bolt indexes fields without
        checking their types), like a 400 at the HTTP front door: logged, never acked.
        """
        payload = request.payload
        problem = shape_problem(payload) if isinstance(payload, dict) else "not an object"
        if problem:
            log.warning("slack_request_refused", reason="malformed", problem=problem)
            return
        started = time.time()
        response = await asyncio.to_thread(run_bolt_app, self.app, request)
        await send_async_response(client, request, response, started)


class _Reporting:
    """Mixed into an asyncio SocketModeClient: one log line per (re)connection, with its cause."""

    kind = "aiohttp"
    current_session: Any
    closed: bool
    _disconnect_reason: str | None = None

    async def run_message_listeners(self, message: dict[str, Any], raw_message: str) -> None:
        if message.get("type") == "disconnect":
            self._disconnect_reason = str(message.get("reason"))
        await super().run_message_listeners(message, raw_message)  # type: ignore[misc]

    async def connect(self) -> None:
        old, reason = self.current_session, self._disconnect_reason
        cause = f"Slack asked ({reason})" if reason else _cause(old, getattr(self, "stale", False))
        self._disconnect_reason = None
        started = time.monotonic()
        await super().connect()  # type: ignore[misc]
        if self.closed:
            return
        took = round(time.monotonic() - started, 2)
        if old is None:
            log.info("socket_mode_connected", client=self.kind, took_s=took)
        elif reason in ("warning", "refresh_requested"):
            log.info("socket_mode_reconnected", cause=cause, took_s=took)
        else:
            log.warning("socket_mode_reconnected", cause=cause, took_s=took)


def _cause(session: Any, stale: bool) -> str:
    """Say why a session ended, from what the WebSocket library recorded."""
    if stale:
        return "no pong from Slack (a silent connection)"
    problem = session.exception() if callable(getattr(session, "exception", None)) else None
    if problem is not None:
        return f"{type(problem).__name__}: {problem}".rstrip(": ")
    code = getattr(session, "close_code", None)
    if code is None or code == 1006:
        return "connection dropped without a close frame"
    return f"Slack closed the connection (code {code}) without a disconnect message"


class SocketModeError(Exception):
    """Socket Mode could not start (for example a bad SLACK_APP_TOKEN)."""


class _OneLine(logging.Filter):
    """Keep slack_sdk's retry errors to one line: no traceback, no ticket, no repeats."""

    REPEAT_AFTER = 60.0  # seconds before the same message is logged again

    def __init__(self) -> None:
        super().__init__()
        self._last: tuple[str, float] = ("", 0.0)

    def filter(self, record: logging.LogRecord) -> bool:
        message = _TICKET.sub(r"\1[redacted]", record.getMessage())
        record.msg, record.args = message, None
        record.exc_info, record.exc_text = None, None
        now = time.monotonic()
        if message == self._last[0] and now - self._last[1] < self.REPEAT_AFTER:
            return False
        self._last = (message, now)
        return True


def sdk_logger(level: str) -> logging.Logger:
    """Return the logger given to slack_sdk's client: warnings only, one line each."""
    logger = logging.getLogger("bot.socket_mode.sdk")
    if not logger.filters:
        logger.addFilter(_OneLine())
    logger.setLevel(logging.DEBUG if level.upper() == "DEBUG" else logging.WARNING)
    return logger
