"""A fake PagerDuty REST API v2 over real https, for tests, benchmarks and `sevbot demo`.

It follows developer.pagerduty.com: token auth (401 code 2006), wrapped entities, classic
pagination (limit ≤ 100, offset, more, total only with total=true, offset + limit ≤ 10000 or
400), since/until filters limited to 6 months (400 code 2005), include[] expanding references,
the From header on writes, 404 code 2100, and 429 (code 2020) with ratelimit-* headers once a
token passes its requests per minute. It also builds signed V3 webhook deliveries.

    fake = FakePagerDuty(latency=0.1).start()
    fake.state.generate(incidents=5000, alerts=20000, since=..., until=...)
    settings = Settings(pagerduty_api_token=fake.token, pagerduty_api_url=fake.base_url)
    # the client trusts the fake's CA through SSL_CERT_FILE=fake.ca_file
"""

from __future__ import annotations

import bisect
import hashlib
import hmac
import json
import re
import time
import uuid
from collections import deque
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.fakes.pagerduty_state import API, OVERVIEW_TYPES, WEB, PagerDutyState, iso, ref
from bot.fakes.server import FakeServer, Request, Response
from bot.fakes.tls import LocalCA

MAX_OFFSET = 10_000
MAX_RANGE = timedelta(days=184)  # "6 months"
DEFAULT_RANGE = timedelta(days=30)

_ROUTES = [
    ("GET", re.compile(r"^/incidents$"), "_list_incidents"),
    ("POST", re.compile(r"^/incidents$"), "_create_incident"),
    ("GET", re.compile(r"^/incidents/(?P<id>[^/]+)$"), "_get_incident"),
    ("PUT", re.compile(r"^/incidents/(?P<id>[^/]+)$"), "_update_incident"),
    ("GET", re.compile(r"^/incidents/(?P<id>[^/]+)/alerts$"), "_list_alerts"),
    ("GET", re.compile(r"^/incidents/(?P<id>[^/]+)/log_entries$"), "_incident_log_entries"),
    ("GET", re.compile(r"^/log_entries$"), "_list_log_entries"),
    ("GET", re.compile(r"^/oncalls$"), "_list_oncalls"),
    ("GET", re.compile(r"^/services$"), "_list_services"),
    ("GET", re.compile(r"^/escalation_policies$"), "_list_policies"),
    ("GET", re.compile(r"^/users$"), "_list_users"),
]


def error(status: int, message: str, code: int, *details: str) -> Response:
    """Return PagerDuty's error body."""
    body: dict[str, Any] = {"message": message, "code": code}
    if details:
        body["errors"] = list(details)
    return Response(status, {"error": body})


class BadRequest(Exception):
    """A request the real API would refuse with 400."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.body)
        self.response = response


def sign(body: bytes, secrets: list[str]) -> str:
    """Return an X-PagerDuty-Signature header value: one v1= HMAC-SHA256 per secret."""
    return ",".join("v1=" + hmac.new(s.encode(), body, hashlib.sha256).hexdigest() for s in secrets)


class FakePagerDuty(FakeServer):
    """PagerDuty's REST API v2 on https://127.0.0.1:<port>, trusted through a local CA."""

    name = "pagerduty"

    def __init__(
        self,
        *,
        token: str = "fake-pd-token",
        latency: float = 0.0,
        requests_per_minute: int | None = 960,
        ca: LocalCA | None = None,
    ) -> None:
        self.ca = ca or LocalCA()
        super().__init__(latency=latency, ssl_context=self.ca.server_context())
        self.token = token
        self.forbidden_tokens: set[str] = set()
        self.requests_per_minute = requests_per_minute
        self.state = PagerDutyState()
        self._recent: deque[float] = deque()

    @property
    def ca_file(self) -> str:
        """Return the path of the CA certificate clients must trust (for SSL_CERT_FILE)."""
        return str(self.ca.ca_file)

    def error_response(self, status: int) -> Response:
        """Return PagerDuty's error body for a 5xx."""
        return Response(status, {"error": {"message": "Internal Server Error", "code": 2001}})

    def rate_limited_body(self) -> Any:
        """Return PagerDuty's 429 body."""
        return {"error": {"message": "Rate Limit Exceeded", "code": 2020}}

    def list_page_calls(self) -> list[Request]:
        """Return the recorded GET requests to list endpoints (those with a limit parameter)."""
        return [r for r in self.calls() if r.method == "GET" and "limit" in r.query]

    # ---- webhooks ---------------------------------------------------------
    def webhook(
        self,
        event_type: str,
        incident_id: str,
        secrets: list[str],
        *,
        agent: dict[str, Any] | None = None,
        note: str | None = None,
        occurred_at: datetime | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        """Build a signed V3 webhook delivery (body, headers) about a stored incident."""
        incident = self.state.incidents[incident_id]
        data: dict[str, Any] = {
            k: incident[k]
            for k in (
                "id",
                "type",
                "self",
                "html_url",
                "status",
                "incident_key",
                "created_at",
                "title",
                "service",
                "escalation_policy",
                "teams",
                "priority",
                "urgency",
            )
        }
        data["number"] = incident["incident_number"]
        data["assignees"] = [a["assignee"] for a in incident["assignments"]]
        if event_type == "incident.annotated":
            data = {
                "incident": ref("incident", incident, "incidents"),
                "id": self.state.new_id("N"),
                "content": note or "",
                "trimmed": False,
                "type": "incident_note",
            }
        event = {
            "event": {
                "id": str(uuid.uuid4()),
                "event_type": event_type,
                "resource_type": "incident",
                "occurred_at": (occurred_at or datetime.now(UTC))
                .isoformat()
                .replace("+00:00", "Z"),
                "agent": agent,
                "client": {"name": "PagerDuty"},
                "data": data,
            }
        }
        body = json.dumps(event).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "PagerDuty-Webhook/V3.0",
            "X-Webhook-Id": str(uuid.uuid4()),
            "X-Webhook-Subscription": "PSUBSCR",
            "X-PagerDuty-Signature": sign(body, secrets),
        }
        return body, headers

    # ---- dispatch ---------------------------------------------------------
    def handle(self, request: Request) -> Response:
        """Authenticate, rate limit and route one request."""
        token = request.headers.get("authorization", "")
        if token != f"Token token={self.token}":
            if token.removeprefix("Token token=") in self.forbidden_tokens:
                return error(403, "Access Denied", 2010)
            return error(401, "Authentication failed", 2006)
        limited = self._rate_limited()
        if limited is not None:
            return limited
        for method, pattern, name in _ROUTES:
            match = pattern.match(request.path)
            if match and request.method == method:
                try:
                    with self.state.lock:
                        result: Response = getattr(self, name)(request, **match.groupdict())
                    return result
                except BadRequest as exc:
                    return exc.response
        return error(404, "Not Found", 2100)

    def _rate_limited(self) -> Response | None:
        if not self.requests_per_minute:
            return None
        now = time.monotonic()
        with self._lock:
            while self._recent and now - self._recent[0] >= 60:
                self._recent.popleft()
            if len(self._recent) >= self.requests_per_minute:
                reset = int(60 - (now - self._recent[0])) + 1
                response = Response(429, self.rate_limited_body())
                response.headers = {
                    "Retry-After": str(reset),
                    "ratelimit-limit": str(self.requests_per_minute),
                    "ratelimit-remaining": "0",
                    "ratelimit-reset": str(reset),
                }
                return response
            self._recent.append(now)
        return None

    # ---- helpers ----------------------------------------------------------
    @staticmethod
    def _param(request: Request, name: str, default: str | None = None) -> str | None:
        values = request.query.get(name)
        return values[0] if values else default

    def _page(self, request: Request, key: str, items: list[Any]) -> Response:
        limit = min(int(self._param(request, "limit", "25") or 25), 100)
        offset = int(self._param(request, "offset", "0") or 0)
        if offset + limit > MAX_OFFSET:
            raise BadRequest(
                error(
                    400,
                    "Invalid Input Provided",
                    2001,
                    f"Offset plus limit must not exceed {MAX_OFFSET}.",
                )
            )
        page = items[offset : offset + limit]
        want_total = self._param(request, "total") == "true"
        return Response(
            200,
            {
                key: page,
                "limit": limit,
                "offset": offset,
                "more": offset + len(page) < len(items),
                "total": len(items) if want_total else None,
            },
        )

    def _window(self, request: Request) -> tuple[str, str] | None:
        if self._param(request, "date_range") == "all":
            return None
        try:
            until_raw, since_raw = self._param(request, "until"), self._param(request, "since")
            until = _parse(until_raw) if until_raw else datetime.now(UTC)
            since = _parse(since_raw) if since_raw else until - DEFAULT_RANGE
        except ValueError as exc:
            raise BadRequest(
                error(
                    400, "Invalid time values in 'since' and/or 'until' parameters", 2004, str(exc)
                )
            ) from exc
        if until - since > MAX_RANGE or until < since:
            raise BadRequest(
                error(
                    400,
                    "Invalid Query Date Range",
                    2005,
                    "The date range must be positive and at most 6 months.",
                )
            )
        return iso(since), iso(until)

    def _expand(self, request: Request, obj: dict[str, Any]) -> dict[str, Any]:
        includes = set(request.query.get("include[]", []))
        if not includes:
            return obj
        obj = dict(obj)
        state = self.state
        if "services" in includes and obj.get("service"):
            obj["service"] = state.services.get(obj["service"]["id"], obj["service"])
        if "priorities" in includes and obj.get("priority"):
            obj["priority"] = state.priorities.get(obj["priority"]["summary"], obj["priority"])
        if "escalation_policies" in includes and obj.get("escalation_policy"):
            obj["escalation_policy"] = state.policies.get(obj["escalation_policy"]["id"])
        if "users" in includes and obj.get("user"):
            obj["user"] = state.users.get(obj["user"]["id"], obj["user"])
        if "incidents" in includes and obj.get("incident"):
            obj["incident"] = state.incidents.get(obj["incident"]["id"], obj["incident"])
        if "first_trigger_log_entries" in includes and obj.get("first_trigger_log_entry"):
            obj["first_trigger_log_entry"] = state.incident_logs[obj["id"]][0]
        return obj

    def _incident_or_404(self, incident_id: str) -> dict[str, Any]:
        incident = self.state.incidents.get(incident_id)
        if incident is None and incident_id.isdigit():
            number = int(incident_id)
            incident = next(
                (i for i in self.state.incidents.values() if i["incident_number"] == number), None
            )
        if incident is None:
            raise BadRequest(error(404, "Not Found", 2100, "Incident Not Found"))
        return incident

    # ---- routes -----------------------------------------------------------
    def _list_incidents(self, request: Request) -> Response:
        window = self._window(request)
        index = self.state.incident_index
        lo, hi = 0, len(index)
        if window:
            lo = bisect.bisect_left(index, (window[0], ""))
            hi = bisect.bisect_left(index, (window[1], ""))
        statuses = set(request.query.get("statuses[]", []))
        urgencies = set(request.query.get("urgencies[]", []))
        services = set(request.query.get("service_ids[]", []))
        key = self._param(request, "incident_key")
        found = []
        for _, iid in index[lo:hi]:
            inc = self.state.incidents[iid]
            if (statuses and inc["status"] not in statuses) or (
                urgencies and inc["urgency"] not in urgencies
            ):
                continue
            if (services and inc["service"]["id"] not in services) or (
                key and inc["incident_key"] != key
            ):
                continue
            found.append(inc)
        response = self._page(request, "incidents", found)
        response.body["incidents"] = [self._expand(request, i) for i in response.body["incidents"]]
        return response

    def _get_incident(self, request: Request, id: str) -> Response:  # noqa: A002
        return Response(200, {"incident": self._expand(request, self._incident_or_404(id))})

    def _require_from(self, request: Request) -> dict[str, Any]:
        sender = request.headers.get("from")
        if not sender:
            raise BadRequest(
                error(
                    400,
                    "Invalid Input Provided",
                    2001,
                    "The From header is required for this call.",
                )
            )
        user = next((u for u in self.state.users.values() if u["email"] == sender), None)
        if user is None:
            raise BadRequest(error(400, "Requester User Not Found", 1008))
        return user

    def _create_incident(self, request: Request) -> Response:
        self._require_from(request)
        body = (request.json() or {}).get("incident") or {}
        service = self.state.services.get((body.get("service") or {}).get("id", ""))
        if not body.get("title") or service is None:
            raise BadRequest(
                error(
                    400,
                    "Invalid Input Provided",
                    2001,
                    "Incident must have a title and an existing service.",
                )
            )
        key = body.get("incident_key")
        if key and any(
            inc["incident_key"] == key
            and inc["service"]["id"] == service["id"]
            and inc["status"] != "resolved"
            for inc in self.state.incidents.values()
        ):
            raise BadRequest(
                error(
                    400,
                    "Invalid Input Provided",
                    2001,
                    "Open incident with matching dedup key already exists on this service",
                )
            )
        priority = (body.get("priority") or {}).get("id")
        name = next((n for n, p in self.state.priorities.items() if p["id"] == priority), None)
        incident = self.state.add_incident(
            service,
            body["title"],
            urgency=body.get("urgency", "high"),
            priority=name,
            incident_key=body.get("incident_key"),
        )
        incident["body"] = body.get("body") or {"type": "incident_body", "details": ""}
        return Response(201, {"incident": incident})

    def _update_incident(self, request: Request, id: str) -> Response:  # noqa: A002
        user = self._require_from(request)
        incident = self._incident_or_404(id)
        status = ((request.json() or {}).get("incident") or {}).get("status")
        if status not in (None, "acknowledged", "resolved"):
            raise BadRequest(error(400, "Invalid Status Provided", 1003))
        if status and incident["status"] == "resolved":
            raise BadRequest(error(400, "Incident Already Resolved", 1001))
        if status:
            now = datetime.now(UTC)
            action = "acknowledge" if status == "acknowledged" else "resolve"
            self.state.add_log_entry(
                id, action, at=now, text=f"{status.title()} by {user['name']}."
            )
            incident["status"] = status
            incident["last_status_change_at"] = iso(now)
            if status == "resolved":
                incident["acknowledgements"] = []
                counts = incident["alert_counts"]
                counts.update(triggered=0, resolved=counts["all"])
                for alert in self.state.alerts[id]:
                    alert["status"] = "resolved"
        return Response(200, {"incident": incident})

    def _list_alerts(self, request: Request, id: str) -> Response:  # noqa: A002
        incident = self._incident_or_404(id)
        statuses = set(request.query.get("statuses[]", []))
        alerts = [
            a for a in self.state.alerts[incident["id"]] if not statuses or a["status"] in statuses
        ]
        return self._page(request, "alerts", alerts)

    def _incident_log_entries(self, request: Request, id: str) -> Response:  # noqa: A002
        incident = self._incident_or_404(id)
        entries = self.state.incident_logs[incident["id"]]
        if self._param(request, "is_overview") == "true":
            entries = [e for e in entries if e["type"] in OVERVIEW_TYPES]
        response = self._page(request, "log_entries", entries)
        response.body["log_entries"] = [
            self._expand(request, e) for e in response.body["log_entries"]
        ]
        return response

    def _list_log_entries(self, request: Request) -> Response:
        window = self._window(request) or ("", "~")
        index = self.state.log_index
        lo = bisect.bisect_left(index, (window[0], ""))
        hi = bisect.bisect_left(index, (window[1], ""))
        entries = [e for _, _, e in index[lo:hi]]
        if self._param(request, "is_overview") == "true":
            entries = [e for e in entries if e["type"] in OVERVIEW_TYPES]
        response = self._page(request, "log_entries", entries)
        response.body["log_entries"] = [
            self._expand(request, e) for e in response.body["log_entries"]
        ]
        return response

    def _list_oncalls(self, request: Request) -> Response:
        policies = set(request.query.get("escalation_policy_ids[]", []))
        found = [
            o
            for o in self.state.oncalls
            if not policies or o["escalation_policy"]["id"] in policies
        ]
        response = self._page(request, "oncalls", found)
        response.body["oncalls"] = [self._expand(request, o) for o in response.body["oncalls"]]
        return response

    def _named(self, request: Request, key: str, items: list[dict[str, Any]]) -> Response:
        query = (self._param(request, "query") or "").lower()
        return self._page(request, key, [i for i in items if query in i["name"].lower()])

    def _list_services(self, request: Request) -> Response:
        return self._named(request, "services", list(self.state.services.values()))

    def _list_policies(self, request: Request) -> Response:
        return self._named(request, "escalation_policies", list(self.state.policies.values()))

    def _list_users(self, request: Request) -> Response:
        # For users, PagerDuty's `query` matches the name or the email address.
        query = (self._param(request, "query") or "").lower()
        users = [
            u
            for u in self.state.users.values()
            if query in u["name"].lower() or query in u["email"].lower()
        ]
        return self._page(request, "users", users)


def _parse(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


__all__ = ["API", "WEB", "FakePagerDuty", "sign"]
