"""The WSGI application: Slack events, health, metrics and feature routes (PagerDuty webhooks)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from prometheus_client import Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.acks import AckGate
from bot.db import ping
from bot.observability.metrics import build_registry

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

_REASONS = {
    200: "OK",
    202: "Accepted",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
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
        self.slack = SlackRequestHandler(app, path="/slack/events")
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
            if path == "/slack/events" and self.serves_slack:
                with self.gate.acking():
                    return self.slack(environ, recording_start)  # type: ignore[arg-type]
            return self._plain(path, environ, recording_start)
        finally:
            self.requests.labels(route, status_holder[0] if status_holder else "500").inc()
            self.latency.labels(route).observe(time.perf_counter() - started)

    def _plain(
        self, path: str, environ: WSGIEnvironment, start_response: Callable[..., object]
    ) -> list[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/healthz":
            ok = ping(self.deps.engine)
            response = HttpResponse(200 if ok else 503, b"ok" if ok else b"database unavailable")
        elif path == "/metrics":
            response = HttpResponse(200, generate_latest(self.registry), CONTENT_TYPE_LATEST)
        elif path in self.routes:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            if length > MAX_BODY:
                response = HttpResponse(413, b"request body too large")
            elif method != "POST":
                response = HttpResponse(405, b"use POST")
            else:
                body = environ["wsgi.input"].read(length) if length else b""
                headers = {
                    k[5:].replace("_", "-").lower(): v
                    for k, v in environ.items()
                    if k.startswith("HTTP_")
                }
                if environ.get("CONTENT_TYPE"):
                    headers["content-type"] = environ["CONTENT_TYPE"]
                response = self.routes[path](HttpRequest(method, path, headers, body))
        else:
            response = HttpResponse(404, b"not found")
        reason = _REASONS.get(response.status, "Unknown")
        start_response(
            f"{response.status} {reason}",
            [("Content-Type", response.content_type), ("Content-Length", str(len(response.body)))],
        )
        return [response.body]
