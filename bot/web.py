"""The WSGI application: Slack events, health, metrics and feature routes (PagerDuty webhooks)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog
from prometheus_client import Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from slack_bolt import App, BoltRequest
from slack_sdk.signature import SignatureVerifier

from bot.acks import AckGate
from bot.db import ping
from bot.observability.metrics import build_registry
from bot.slack.envelope import MalformedRequest, parse_body, shape_problem

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

    from bot.deps import Deps


@dataclass(frozen=True)
class HttpRequest:
    """A plain request handed to feature routes."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class HttpResponse:
    """A plain response from a feature route."""

    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"


Route = Callable[[HttpRequest], HttpResponse]
MAX_BODY = 1024 * 1024
SLACK_PATH = "/slack/events"
log = structlog.get_logger(__name__)

_REASONS = {
    200: "OK",
    202: "Accepted",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    411: "Length Required",
    413: "Payload Too Large",
    503: "Service Unavailable",
}


class WebApp:
    """Route requests to Bolt (/slack/events), /healthz, /metrics and registered routes."""

    def __init__(
        self,
        app: App,
        deps: Deps,
        routes: dict[str, Route] | None = None,
        *,
        slack: bool = True,
        gate: AckGate | None = None,
    ) -> None:
        # slack=False: only /healthz and /metrics (a worker or a Socket Mode process).
        self.serves_slack = slack
        self.gate = gate or AckGate()
        self.app = app
        secret = deps.settings.slack_signing_secret
        self.verifier = SignatureVerifier(secret.get_secret_value()) if secret else None
        self.deps = deps
        self.routes: dict[str, Route] = dict(routes or {})
        self.registry = build_registry(deps.session_factory)
        self.requests = Counter(
            "sevbot_http_requests", "HTTP requests", ["route", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "sevbot_http_seconds", "HTTP handling time", ["route"], registry=self.registry
        )

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        started = time.perf_counter()
        route = path if path in {"/slack/events", "/healthz", "/metrics", *self.routes} else "other"
        status_holder: list[str] = []

        def recording_start(
            status: str, headers: list[tuple[str, str]], exc_info: object = None
        ) -> object:
            status_holder.append(status.split(" ", 1)[0])
            return start_response(status, headers)  # type: ignore[arg-type]

        try:
            return self._plain(path, environ, recording_start)
        finally:
            self.requests.labels(route, status_holder[0] if status_holder else "500").inc()
            self.latency.labels(route).observe(time.perf_counter() - started)

    def _plain(
        self, path: str, environ: WSGIEnvironment, start_response: Callable[..., object]
    ) -> list[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        response: HttpResponse | None = None
        if path in {"/healthz", "/metrics"} and method not in {"GET", "HEAD"}:
            response = HttpResponse(405, b"use GET")
        elif path == "/healthz":
            ok = ping(self.deps.engine)
            response = HttpResponse(200 if ok else 503, b"ok" if ok else b"database unavailable")
        elif path == "/metrics":
            response = HttpResponse(200, generate_latest(self.registry), CONTENT_TYPE_LATEST)
        elif path in self.routes or (path == SLACK_PATH and self.serves_slack):
            request = read_request(environ, method, path)
            if isinstance(request, HttpResponse):
                response = request
            elif path == SLACK_PATH:
                with self.gate.acking():
                    response = self._slack(request)
            else:
                response = self.routes[path](request)
        else:
            response = HttpResponse(404, b"not found")
        reason = _REASONS.get(response.status, "Unknown")
        start_response(
            f"{response.status} {reason}",
            [("Content-Type", response.content_type), ("Content-Length", str(len(response.body)))],
        )
        return [response.body]

    def _slack(self, request: HttpRequest) -> HttpResponse:
        """Verify, parse and shape-check a Slack request, then hand it to Bolt.

        The signature is checked on the raw bytes before anything parses them, and a refused
        request is logged without its body (a body can be megabytes, or forge log lines).
        """
        if not self._signed(request):
            log.warning("slack_request_refused", reason="bad_signature", size=len(request.body))
            return HttpResponse(401, b"invalid or missing Slack signature")
        try:
            body = parse_body(request.body.decode("utf-8"), request.headers.get("content-type"))
            problem = shape_problem(body)
        except (UnicodeDecodeError, MalformedRequest) as exc:
            problem = str(exc) if isinstance(exc, MalformedRequest) else "body is not UTF-8"
        if problem:
            log.warning("slack_request_refused", reason="malformed", problem=problem)
            return HttpResponse(400, f"malformed Slack request: {problem}".encode())
        # Already verified and parsed: hand Bolt the parsed body. Bolt only accepts a dict body
        # in its "socket_mode" mode, which differs from "http" only in skipping the signature
        # check done above; Bolt's own parser would misread a command that contains "payload".
        result = self.app.dispatch(
            BoltRequest(body=body, headers=dict(request.headers), mode="socket_mode")
        )
        content_type = (result.headers.get("content-type") or ["text/plain; charset=utf-8"])[0]
        return HttpResponse(result.status, (result.body or "").encode(), content_type)

    def _signed(self, request: HttpRequest) -> bool:
        if self.verifier is None:
            return False
        try:
            return self.verifier.is_valid(
                request.body,
                request.headers.get("x-slack-request-timestamp"),
                request.headers.get("x-slack-signature"),
            )
        except (ValueError, TypeError):  # a timestamp that is not a number, a non-ASCII signature
            return False


def read_request(environ: WSGIEnvironment, method: str, path: str) -> HttpRequest | HttpResponse:
    """Read a POST body of at most MAX_BODY bytes, or return the 4xx that refuses it."""
    if method != "POST":
        return HttpResponse(405, b"use POST")
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return HttpResponse(400, b"bad Content-Length")
    if length > MAX_BODY:
        return HttpResponse(413, b"request body too large (limit 1 MiB)")
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    headers = {
        k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")
    }
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = environ["CONTENT_TYPE"]
    return HttpRequest(method, path, headers, body)
