"""A fake Slack Socket Mode server on a real loopback WebSocket, beside the fake Web API.

    slack = FakeSlack().start()
    socket = FakeSocketMode(slack).start()   # apps.connections.open now answers ws://127.0.0.1:…
    # run the bot with SLACK_APP_TOKEN=socket.app_token and SLACK_API_URL=slack.api_url
    socket.wait_for_connections(1)
    sent = socket.deliver(signer.slash_command(user_id=alice, channel_id=general, text="help"))
    ack = socket.wait_for_ack(sent)          # ack.payload is what the app answered
    socket.disconnect("refresh_requested")   # or close_without_disconnect(), drop_tcp(), ...

It follows Slack's Socket Mode docs: a single-use `ticket` URL from `apps.connections.open`
(app-level token in the Authorization header), a `hello` on connect, envelopes of type
`slash_commands`, `events_api` and `interactive` with `envelope_id`, `accepts_response_payload`
and (Events API) `retry_attempt`/`retry_reason`, acks `{"envelope_id", "payload"}`, and
`disconnect` frames. Envelopes go round-robin to the open connections (Slack may use any of
them); with none open they wait for the next `hello`, as Slack queues and retries.
Faults on demand: a close without `disconnect`, a TCP drop without a close frame, a silent
connection (a NAT black hole) and a stalled one (a slow server).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request as WsRequest
from websockets.http11 import Response as WsResponse

from bot.fakes.slack_socket_frames import (
    RESPONSE_PAYLOAD_TYPES,
    Ack,
    Envelope,
    Link,
    disconnect_frame,
    envelope_from_signed,
    hello_frame,
)

if TYPE_CHECKING:
    from bot.fakes.slack import FakeSlack

__all__ = ["Ack", "Envelope", "FakeSocketMode", "Link"]


class FakeSocketMode:
    """The Socket Mode side of the fake Slack: a WebSocket server plus apps.connections.open."""

    def __init__(
        self,
        slack: FakeSlack,
        *,
        app_token: str = "xapp-1-A0001-1-test",
        app_id: str = "A0001",
        ping_interval: float | None = None,
    ) -> None:
        self.slack = slack
        self.app_token = app_token
        self.app_id = app_id
        self.ping_interval = ping_interval  # Slack's own pings; off unless asked for
        self.hello_delay = 0.0  # a slow server: seconds between the handshake and `hello`
        self.refuse_until = 0.0  # time.monotonic() before which handshakes get 503
        self.envelopes: list[Envelope] = []
        self.acks: list[Ack] = []
        self.links: list[Link] = []
        self.tickets_issued = 0
        self._tickets: set[str] = set()
        self._pending: list[Envelope] = []
        self._closing: set[asyncio.Future[None]] = set()
        self._ids = itertools.count(1)
        self._round_robin = itertools.count()
        self._changed = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle ---------------------------------------------------------------
    def start(self) -> FakeSocketMode:
        """Listen on a free loopback port and answer apps.connections.open on the fake Slack."""
        loop = asyncio.new_event_loop()
        started = threading.Event()

        async def listen() -> Server:
            return await serve(
                self._serve,
                "127.0.0.1",
                0,
                process_request=self._check_ticket,
                ping_interval=self.ping_interval,
                close_timeout=1,
            )

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                self._server = loop.run_until_complete(listen())
            finally:
                started.set()
            loop.run_forever()

        self._loop = loop
        self._thread = threading.Thread(target=run, name="slack-socket-fake", daemon=True)
        self._thread.start()
        started.wait(10)
        if self._server is None:
            raise RuntimeError("the fake Socket Mode server could not listen")
        self.slack.socket_mode = self
        return self

    def stop(self) -> None:
        """Drop every connection and stop listening."""
        if self._loop is None or self._server is None:
            return
        self.slack.socket_mode = None
        server, loop = self._server, self._loop

        async def shutdown() -> None:
            for link in self.links:
                link.ws.transport.abort()
            server.close()
            await server.wait_closed()

        self._call(shutdown())
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(5)
        loop.close()
        self._loop = self._server = None

    def __enter__(self) -> FakeSocketMode:
        return self.start() if self._server is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """Return the WebSocket port."""
        assert self._server is not None, "fake Socket Mode server not started"
        return int(next(iter(self._server.sockets)).getsockname()[1])

    # ---- apps.connections.open -------------------------------------------------------
    def open_connection(self, token: str | None) -> dict[str, Any]:
        """Answer apps.connections.open: a single-use ws:// URL for the app-level token."""
        if not token:
            return {"ok": False, "error": "not_authed"}
        if not token.startswith("xapp-"):
            return {"ok": False, "error": "not_allowed_token_type"}
        if token != self.app_token:
            return {"ok": False, "error": "invalid_auth"}
        ticket = uuid.uuid4().hex
        with self._changed:
            self._tickets.add(ticket)
            self.tickets_issued += 1
        url = f"ws://127.0.0.1:{self.port}/link/?ticket={ticket}&app_id={self.app_id}"
        return {"ok": True, "url": url}

    # ---- deliveries --------------------------------------------------------------------
    def deliver(
        self,
        signed: tuple[str, dict[str, str]],
        *,
        connection: int | None = None,
        retry_attempt: int | None = None,
        retry_reason: str | None = None,
    ) -> Envelope:
        """Send a request built by SlackRequestSigner as an envelope; return it."""
        kind, payload = envelope_from_signed(signed)
        return self.send_envelope(
            kind,
            payload,
            connection=connection,
            retry_attempt=retry_attempt,
            retry_reason=retry_reason,
        )

    def redeliver(self, envelope: Envelope, *, reason: str = "timeout") -> Envelope:
        """Retry an envelope as Slack does when an ack is late: same payload, next attempt."""
        return self.send_envelope(
            envelope.type,
            envelope.payload,
            retry_attempt=(envelope.retry_attempt or 0) + 1,
            retry_reason=reason,
        )

    def send_envelope(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        connection: int | None = None,
        retry_attempt: int | None = None,
        retry_reason: str | None = None,
    ) -> Envelope:
        """Send an envelope to a connection (round-robin unless given), or queue it for one."""
        accepts = kind == "slash_commands" or (
            kind == "interactive" and payload.get("type") in RESPONSE_PAYLOAD_TYPES
        )
        if kind == "events_api" and retry_attempt is None:
            retry_attempt, retry_reason = 0, ""
        envelope = Envelope(
            envelope_id=str(uuid.uuid4()),
            type=kind,
            payload=payload,
            accepts_response_payload=accepts,
            retry_attempt=retry_attempt,
            retry_reason=retry_reason,
        )
        with self._changed:
            self.envelopes.append(envelope)
            link = self._pick(connection)
            if link is None:
                self._pending.append(envelope)
                return envelope
        self._call(self._send(link, envelope))
        return envelope

    def wait_for_ack(self, envelope: Envelope | str, timeout: float = 10.0) -> Ack:
        """Block until the app acks the envelope; return the ack."""
        envelope_id = envelope if isinstance(envelope, str) else envelope.envelope_id
        with self._changed:
            found = self._changed.wait_for(lambda: self.ack_for(envelope_id), timeout)
        if not found:
            raise AssertionError(f"no ack for envelope {envelope_id} within {timeout}s")
        return found

    def ack_for(self, envelope_id: str) -> Ack | None:
        """Return the first ack of an envelope, if any."""
        return next((a for a in self.acks if a.envelope_id == envelope_id), None)

    # ---- connections ------------------------------------------------------------------
    def live_connections(self) -> list[int]:
        """Return the ids of the connections envelopes can go to."""
        with self._changed:
            return [link.id for link in self.links if link.live]

    def wait_for_connections(self, count: int = 1, timeout: float = 10.0) -> list[int]:
        """Block until at least `count` connections have said hello; return their ids."""
        with self._changed:
            self._changed.wait_for(lambda: len(self.live_connections()) >= count, timeout)
        live = self.live_connections()
        if len(live) < count:
            raise AssertionError(f"{len(live)} of {count} Socket Mode connections after {timeout}s")
        return live

    def wait_for_new_connection(self, after: int, timeout: float = 10.0) -> int:
        """Block until a connection with an id above `after` is live; return its id."""
        with self._changed:
            self._changed.wait_for(lambda: any(i > after for i in self.live_connections()), timeout)
        newer = [i for i in self.live_connections() if i > after]
        if not newer:
            raise AssertionError(f"no new Socket Mode connection within {timeout}s")
        return newer[0]

    # ---- faults -------------------------------------------------------------------------
    def disconnect(
        self, reason: str = "refresh_requested", *, connection: int | None = None
    ) -> None:
        """Send a `disconnect` frame (warning, refresh_requested, link_disabled, …)."""
        frame = json.dumps(disconnect_frame(reason))
        for link in self._targets(connection):
            self._call(self._send_raw(link, frame))

    def close_without_disconnect(self, *, connection: int | None = None, code: int = 1001) -> None:
        """Close with a WebSocket close frame but no `disconnect` message first."""
        for link in self._targets(connection):
            self._mark_closed(link)
            self._call(self._close(link, code))

    def drop_tcp(self, *, connection: int | None = None) -> None:
        """Close the TCP connection with no close frame (a load balancer restart)."""
        for link in self._targets(connection):
            self._mark_closed(link)
            self._call(self._abort(link))

    def go_silent(self, *, connection: int | None = None) -> None:
        """Stop reading and sending on the connection, leaving TCP open (a NAT timeout)."""
        for link in self._targets(connection):
            with self._changed:
                link.silent = True
            self._call(self._pause(link, None))

    def outage(self, seconds: float) -> None:
        """Drop every connection and refuse new ones (HTTP 503) for a while."""
        with self._changed:
            self.refuse_until = time.monotonic() + seconds
        self.drop_tcp()

    def stall(self, seconds: float, *, connection: int | None = None) -> None:
        """Read nothing (no pongs, no acks) for a while, then catch up (a slow server)."""
        for link in self._targets(connection):
            self._call(self._pause(link, seconds))

    # ---- internals ------------------------------------------------------------------------
    def _call(self, coro: Coroutine[Any, Any, Any]) -> Any:
        assert self._loop is not None, "fake Socket Mode server not started"
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    def _targets(self, connection: int | None) -> list[Link]:
        with self._changed:
            open_links = [link for link in self.links if link.closed_at is None]
        return [link for link in open_links if connection in (None, link.id)]

    def _pick(self, connection: int | None) -> Link | None:
        live = [link for link in self.links if link.live]
        if connection is not None:
            return next((link for link in live if link.id == connection), None)
        return live[next(self._round_robin) % len(live)] if live else None

    def _mark_closed(self, link: Link) -> None:
        with self._changed:
            if link.closed_at is None:
                link.closed_at = time.monotonic()
            self._changed.notify_all()

    def _check_ticket(self, connection: ServerConnection, request: WsRequest) -> WsResponse | None:
        query = parse_qs(urlsplit(request.path).query)
        ticket = (query.get("ticket") or [""])[0]
        with self._changed:
            if time.monotonic() < self.refuse_until:
                return connection.respond(503, "Socket Mode is unavailable\n")
            if ticket not in self._tickets:
                return connection.respond(401, "invalid or used ticket\n")
            self._tickets.discard(ticket)
        return None

    async def _serve(self, ws: ServerConnection) -> None:
        with self._changed:
            link = Link(id=next(self._ids), ws=ws)
            self.links.append(link)
        try:
            if self.hello_delay:
                await asyncio.sleep(self.hello_delay)
            with self._changed:
                count = sum(1 for other in self.links if other.closed_at is None)
            hello = hello_frame(num_connections=count, app_id=self.app_id)
            await ws.send(json.dumps(hello))
            with self._changed:
                link.ready = True
                pending, self._pending = self._pending, []
                self._changed.notify_all()
            for envelope in pending:
                await self._send(link, envelope)
            async for message in ws:
                self._record(link, message)
        except ConnectionClosed:
            pass
        finally:
            self._mark_closed(link)

    def _record(self, link: Link, message: str | bytes) -> None:
        try:
            frame = json.loads(message)
        except ValueError:
            return
        if not isinstance(frame, dict) or "envelope_id" not in frame:
            return
        payload = frame.get("payload")
        with self._changed:
            self.acks.append(Ack(str(frame["envelope_id"]), payload or None, link.id))
            self._changed.notify_all()

    async def _send(self, link: Link, envelope: Envelope) -> None:
        envelope.connection, envelope.sent_at = link.id, time.monotonic()
        await self._send_raw(link, json.dumps(envelope.frame()))

    @staticmethod
    async def _send_raw(link: Link, frame: str) -> None:
        with contextlib.suppress(ConnectionClosed):
            await link.ws.send(frame)

    async def _close(self, link: Link, code: int) -> None:
        closing = asyncio.ensure_future(link.ws.close(code=code, reason=""))
        self._closing.add(closing)  # keep a reference until the close handshake ends
        closing.add_done_callback(self._closing.discard)

    @staticmethod
    async def _abort(link: Link) -> None:
        link.ws.transport.abort()

    @staticmethod
    async def _pause(link: Link, seconds: float | None) -> None:
        link.ws.transport.pause_reading()
        if seconds is not None:
            asyncio.get_running_loop().call_later(seconds, _resume(link))


def _resume(link: Link) -> Callable[[], None]:
    def resume() -> None:
        if link.closed_at is None and not link.silent:
            link.ws.transport.resume_reading()

    return resume
