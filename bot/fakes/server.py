"""A small threaded HTTP server that the vendor fakes (Slack, PagerDuty, Notion) build on.

Each fake subclasses FakeServer, implements handle(), and gets: a real socket on 127.0.0.1,
recorded calls, injected latency, and one-shot injected failures (429 with Retry-After,
5xx, vendor errors) that tests and benchmarks use.
"""

from __future__ import annotations

import json
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)

    def json(self) -> Any:
        """Decode the body as JSON."""
        return json.loads(self.body or b"null")


class Hold:
    """A request held by the fake: `arrived` is set when it comes, `released` lets it go on."""

    def __init__(self, match: Callable[[Request], bool]) -> None:
        self.match = match
        self.arrived = threading.Event()
        self.released = threading.Event()
        self.dropped = False

    def release(self) -> None:
        """Let the held request be processed."""
        self.released.set()

    def drop(self) -> None:
        """Close the held request unprocessed: it never reached the vendor."""
        self.dropped = True
        self.released.set()


@dataclass
class Response:
    """What the fake answers."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None

    def encode(self) -> bytes:
        """Return the body bytes (JSON unless raw is set)."""
        if self.raw is not None:
            return self.raw
        return b"" if self.body is None else json.dumps(self.body).encode()


Injection = Callable[[Request], Response | None]


class FakeServer:
    """Base of the vendor fakes: start()/stop(), calls, latency and injected failures."""

    name = "fake"

    def __init__(self, *, latency: float = 0.0, ssl_context: ssl.SSLContext | None = None) -> None:
        self.latency = latency
        self.requests: list[Request] = []
        self._injections: list[tuple[Callable[[Request], bool], Injection, int]] = []
        self._holds: list[Hold] = []
        self._lock = threading.RLock()
        self._ssl_context = ssl_context
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle -------------------------------------------------------
    def start(self, port: int = 0) -> FakeServer:
        """Listen on 127.0.0.1 (a free port unless one is given) in a background thread."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                fake._dispatch(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        httpd.daemon_threads = True
        if self._ssl_context is not None:
            httpd.socket = self._ssl_context.wrap_socket(httpd.socket, server_side=True)
        self._httpd = httpd
        self._thread = threading.Thread(
            target=lambda: httpd.serve_forever(poll_interval=0.05),
            name=f"{self.name}-fake",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> FakeServer:
        return self.start() if self._httpd is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """Return the port the fake listens on."""
        assert self._httpd is not None, "fake not started"
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """Return the fake's root URL, without a trailing slash."""
        scheme = "https" if self._ssl_context is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    # ---- failure injection ----------------------------------------------
    def inject(self, match: Callable[[Request], bool], respond: Injection, times: int = 1) -> None:
        """Answer the next `times` matching requests with `respond` instead of the real handler."""
        with self._lock:
            self._injections.append((match, respond, times))

    def hold(self, match: Callable[[Request], bool]) -> Hold:
        """Hold the next matching request until released (or dropped), then do it as usual.

        The vendor does the work, but its caller may be gone by then: a crash mid-call.
        """
        hold = Hold(match)
        with self._lock:
            self._holds.append(hold)
        return hold

    def rate_limit(self, path_contains: str, retry_after: int = 1, times: int = 1) -> None:
        """Answer the next matching requests with 429 and a Retry-After header."""
        self.inject(
            lambda r: path_contains in r.path,
            lambda r: Response(429, self.rate_limited_body(), {"Retry-After": str(retry_after)}),
            times,
        )

    def fail(self, path_contains: str, status: int = 500, times: int = 1) -> None:
        """Answer the next matching requests with a server error."""
        self.inject(
            lambda r: path_contains in r.path,
            lambda r: Response(status, {"error": "fake failure"}),
            times,
        )

    def lose_answer(
        self, path_contains: str, *, method: str | None = None, status: int = 502, times: int = 1
    ) -> None:
        """Carry out the next matching requests, then answer a server error instead of the result.

        This is a gateway failing after the vendor did the work: the caller cannot know.
        """

        def respond(request: Request) -> Response:
            self.handle(request)
            return self.error_response(status)

        self.inject(
            lambda r: path_contains in r.path and (method is None or r.method == method),
            respond,
            times,
        )

    def stall(
        self, path_contains: str, seconds: float, *, method: str | None = None, times: int = 1
    ) -> None:
        """Answer the next matching requests only after `seconds` (past the client's timeout)."""

        def respond(request: Request) -> Response:
            time.sleep(seconds)
            return self.handle(request)

        self.inject(
            lambda r: path_contains in r.path and (method is None or r.method == method),
            respond,
            times,
        )

    def error_response(self, status: int) -> Response:
        """Return the vendor's answer for a server error (subclasses override)."""
        return Response(status, {"error": "fake failure"})

    def rate_limited_body(self) -> Any:
        """Return the vendor's body for a 429 (subclasses override)."""
        return {"error": "rate_limited"}

    def calls(self, path_contains: str = "") -> list[Request]:
        """Return the recorded requests whose path contains the given text."""
        with self._lock:
            return [r for r in self.requests if path_contains in r.path]

    # ---- dispatch ---------------------------------------------------------
    def handle(self, request: Request) -> Response:
        """Answer one request (subclasses implement)."""
        raise NotImplementedError

    def _take_injection(self, request: Request) -> Response | None:
        chosen: Injection | None = None
        with self._lock:
            for index, (match, respond, times) in enumerate(self._injections):
                if match(request):
                    if times <= 1:
                        self._injections.pop(index)
                    else:
                        self._injections[index] = (match, respond, times - 1)
                    chosen = respond
                    break
        # Outside the lock: a stalled answer must not hold up the other requests.
        return chosen(request) if chosen is not None else None

    def _dispatch(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        parts = urlsplit(handler.path)
        request = Request(
            method=handler.command,
            path=parts.path,
            query=parse_qs(parts.query),
            headers={k.lower(): v for k, v in handler.headers.items()},
            body=body,
        )
        with self._lock:
            self.requests.append(request)
        if self.latency:
            time.sleep(self.latency)
        with self._lock:
            held = next((h for h in self._holds if h.match(request)), None)
            if held is not None:
                self._holds.remove(held)
        if held is not None:
            held.arrived.set()
            held.released.wait(60)
            if held.dropped:
                handler.close_connection = True
                return
        try:
            response = self._take_injection(request) or self.handle(request)
        except Exception as exc:  # a bug in a fake must show up as a 500, not a hang
            response = Response(500, {"error": f"fake crashed: {exc!r}"})
        payload = response.encode()
        handler.send_response(response.status)
        headers = {"Content-Type": "application/json; charset=utf-8", **response.headers}
        for key, value in headers.items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(payload)))
        try:
            handler.end_headers()
            handler.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True  # the client gave up (a timeout): its answer is lost
