"""The PagerDuty adapter: python-pagerduty's RestApiV2Client behind our own types and errors.

The only module that imports `pagerduty`. The client sends the token, the From header and the
v2 Accept header over httpx2, and refuses non-https base URLs. TLS uses httpx2's default context:
the system trust store, or SSL_CERT_FILE / SSL_CERT_DIR when set (no pinned certifi bundle).

The client's own retry loop ignores Retry-After and retries 429 forever, so it is told to hand
every 429, 5xx and network error straight back; this module then waits (Retry-After, then
ratelimit-reset, then exponential backoff), retries a bounded number of times, and keeps the
account under 960 requests per minute with a sliding-window limiter.
"""

from __future__ import annotations

import logging
import math
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any, TypeVar

import pagerduty
import structlog

from bot.integrations.ports import (
    AuthError,
    IntegrationError,
    NotConfigured,
    NotFound,
    PageHook,
    Unavailable,
)
from bot.observability.vendor import vendor_call
from bot.pagerduty.domain import (
    PdAlert,
    PdEscalationPolicy,
    PdIncident,
    PdLogEntry,
    PdOncall,
    PdService,
    alert_from_api,
    format_time,
    incident_from_api,
    incident_ref,
    log_entry_from_api,
    oncall_from_api,
    service_from_api,
)
from bot.settings import Settings

log = structlog.get_logger(__name__)

PAGE_SIZE = 100
OFFSET_CAP = 10_000
MAX_WINDOW = timedelta(days=179)  # PagerDuty refuses since/until ranges over 6 months
REQUESTS_PER_MINUTE = 960
_TRANSIENT = (408, 429, 500, 502, 503, 504)


class PagerDutyRateLimiter:
    """Keep this process's PagerDuty REST calls to `per_minute` in any 60-second window."""

    def __init__(
        self,
        per_minute: int = REQUESTS_PER_MINUTE,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._sleep = sleep
        self._times: deque[float] = deque()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Wait until one more request fits in the window; return the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                while self._times and now - self._times[0] >= 60:
                    self._times.popleft()
                if len(self._times) < self.per_minute:
                    self._times.append(now)
                    return waited
                delay = 60 - (now - self._times[0])
            self._sleep(delay)
            waited += delay


def _quiet_logger() -> logging.Logger:
    # The client logs each 429/5xx we take over as "Non-transient HTTP error"; we log our own.
    logger = logging.getLogger("sevbot.pagerduty.client")
    logger.propagate = False
    logger.addHandler(logging.NullHandler())
    return logger


def make_client(
    settings: Settings, *, verify: ssl.SSLContext | None = None, timeout: float = 30.0
) -> Any:
    """Build a RestApiV2Client from settings; raise NotConfigured without a token."""
    if settings.pagerduty_api_token is None or not settings.pagerduty_api_token.get_secret_value():
        raise NotConfigured("PagerDuty is not configured: set PAGERDUTY_API_TOKEN")
    extra: dict[str, Any] = {} if verify is None else {"verify": verify}
    try:
        client = pagerduty.RestApiV2Client(
            settings.pagerduty_api_token.get_secret_value(),
            default_from=settings.pagerduty_from_email,
            base_url=settings.pagerduty_api_url.rstrip("/"),
            **extra,
        )
    except pagerduty.UrlError as exc:
        raise IntegrationError(f"PAGERDUTY_API_URL must be an https URL: {exc}") from exc
    client.timeout = timeout  # type: ignore[assignment]
    client.retry = {status: 1 for status in _TRANSIENT}
    client.max_http_attempts = -1  # with retry=1 above: return the response at the first failure
    client.max_network_attempts = 0  # raise at the first network error; we retry ourselves
    client.log = _quiet_logger()
    return client


def route_of(method: str, path: str) -> str:
    """Name a call for metrics without ids: GET /incidents/PX1Y2Z -> GET /incidents/{id}."""
    parts = [
        "{id}" if any(ch.isdigit() or ch.isupper() for ch in part) else part
        for part in path.split("?", 1)[0].strip("/").split("/")
    ]
    return f"{method.upper()} /{'/'.join(parts)}"


def pagerduty_outcome(exc: BaseException) -> str:
    """Classify a call that raised: the client raises on 401 and on network errors."""
    if isinstance(exc, pagerduty.HttpError):
        return "error"
    text = f"{exc!r} {exc.__cause__!r}".lower()
    return "timeout" if "timeout" in text or "timed out" in text else "error"


def _error_text(response: Any) -> str:
    try:
        err = response.json().get("error") or {}
    except ValueError:
        return response.text[:200]
    details = "; ".join(str(d) for d in err.get("errors") or [])
    return f"{err.get('message', 'error')} (code {err.get('code')})" + (
        f": {details}" if details else ""
    )


class PagerDutyAdapter:
    """PagerDuty REST API v2, returning bot.pagerduty.domain dataclasses."""

    def __init__(
        self,
        client: Any,
        *,
        limiter: PagerDutyRateLimiter | None = None,
        attempts: int = 4,
        backoff: float = 0.5,
        max_rate_limit_waits: int = 10,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.limiter = limiter or PagerDutyRateLimiter()
        self.attempts = attempts
        self.backoff = backoff
        self.max_rate_limit_waits = max_rate_limit_waits
        self._sleep = sleep
        self.requests_made = 0

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> PagerDutyAdapter:
        """Build the adapter from settings; raise NotConfigured without a token."""
        verify = kwargs.pop("verify", None)
        return cls(make_client(settings, verify=verify), **kwargs)

    # ---- transport ----------------------------------------------------------
    def _wait_for(self, response: Any, attempt: int) -> float:
        for header in ("retry-after", "ratelimit-reset"):
            value = response.headers.get(header)
            if value and value.strip().isdigit():
                return float(value)
        return self.backoff * 2 ** (attempt - 1)

    def request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """Send one API call with rate limiting and retries; return the decoded JSON body."""
        failures = rate_waits = 0
        while True:
            self.limiter.acquire()
            self.requests_made += 1
            try:
                with vendor_call("pagerduty", route_of(method, path), pagerduty_outcome) as call:
                    response = self.client.request(method, path, **kwargs)
                    call.answered(response.status_code)
            except pagerduty.HttpError as exc:  # the client raises on 401 itself
                raise AuthError(
                    f"PagerDuty refused the API token (401) on {method} {path}; "
                    "check PAGERDUTY_API_TOKEN"
                ) from exc
            except pagerduty.Error as exc:  # network error or timeout
                failures += 1
                if failures >= self.attempts:
                    raise Unavailable(
                        f"PagerDuty could not be reached for {method} {path}"
                    ) from exc
                delay = self.backoff * 2 ** (failures - 1)
                log.warning("pagerduty.network_error", path=path, retry_in=delay, error=str(exc))
                self._sleep(delay)
                continue
            status = response.status_code
            if status < 300:
                return response.json() if response.content else {}
            if status == 429:
                rate_waits += 1
                if rate_waits > self.max_rate_limit_waits:
                    raise Unavailable(f"PagerDuty kept rate limiting {method} {path}")
                delay = self._wait_for(response, rate_waits)
                log.info("pagerduty.rate_limited", path=path, retry_in=delay)
                self._sleep(delay)
                continue
            if status in _TRANSIENT:
                failures += 1
                if failures >= self.attempts:
                    raise Unavailable(f"PagerDuty answered {status} to {method} {path}")
                delay = self._wait_for(response, failures)
                log.warning("pagerduty.server_error", path=path, status=status, retry_in=delay)
                self._sleep(delay)
                continue
            if status in (401, 403):
                log.error("pagerduty.auth_error", status=status, path=path)
                detail = _error_text(response)
                raise AuthError(f"PagerDuty refused access ({status}) on {method} {path}: {detail}")
            if status == 404:
                raise NotFound(f"PagerDuty has no {path}")
            raise IntegrationError(f"PagerDuty rejected {method} {path}: {_error_text(response)}")

    def paginate(
        self,
        path: str,
        key: str,
        params: dict[str, Any] | None = None,
        on_page: PageHook | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Yield every object of a classic-paginated list (limit 100, offset, more)."""
        offset = 0
        while True:
            if offset + PAGE_SIZE > OFFSET_CAP:
                raise IntegrationError(
                    f"{path} has more than {OFFSET_CAP} results; narrow the query"
                )
            body = self.request(
                "GET", path, params={**(params or {}), "limit": PAGE_SIZE, "offset": offset}
            )
            items = body.get(key) or []
            if on_page:
                on_page(path, len(items))
            yield from items
            offset += len(items)
            if not body.get("more") or not items:
                return

    def paginate_window(
        self,
        path: str,
        key: str,
        since: datetime,
        until: datetime,
        params: dict[str, Any] | None = None,
        on_page: PageHook | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Yield a since/until list, splitting beyond 6 months or 10,000 results."""
        start = since
        while start < until:
            end = min(start + MAX_WINDOW, until)
            yield from self._window(path, key, start, end, params or {}, on_page)
            start = end

    def _window(
        self,
        path: str,
        key: str,
        since: datetime,
        until: datetime,
        params: dict[str, Any],
        on_page: PageHook | None,
    ) -> Iterator[dict[str, Any]]:
        query = {**params, "since": format_time(since), "until": format_time(until)}
        first = self.request(
            "GET", path, params={**query, "limit": PAGE_SIZE, "offset": 0, "total": "true"}
        )
        total = int(first.get("total") or 0)
        seconds = int((until - since).total_seconds())
        if total > OFFSET_CAP and seconds > 1:
            parts = min(math.ceil(total / (OFFSET_CAP * 0.8)), seconds)
            step = math.ceil(seconds / parts)
            log.info("pagerduty.split_window", path=path, total=total, parts=parts)
            for i in range(parts):
                sub_since = since + timedelta(seconds=i * step)
                sub_until = min(since + timedelta(seconds=(i + 1) * step), until)
                if sub_since < sub_until:
                    yield from self._window(path, key, sub_since, sub_until, params, on_page)
            return
        items = first.get(key) or []
        if on_page:
            on_page(path, len(items))
        yield from items
        if first.get("more") and items:
            rest = self._pages_from(path, key, query, len(items), on_page)
            yield from rest

    def _pages_from(
        self, path: str, key: str, query: dict[str, Any], offset: int, on_page: PageHook | None
    ) -> Iterator[dict[str, Any]]:
        while offset + PAGE_SIZE <= OFFSET_CAP:
            body = self.request("GET", path, params={**query, "limit": PAGE_SIZE, "offset": offset})
            items = body.get(key) or []
            if on_page:
                on_page(path, len(items))
            yield from items
            offset += len(items)
            if not body.get("more") or not items:
                return
        log.warning("pagerduty.offset_cap_reached", path=path, offset=offset)

    # ---- reads --------------------------------------------------------------
    def get_incident(self, ref: str) -> PdIncident:
        """Fetch an incident by id, number or URL."""
        try:
            incident_id = incident_ref(ref)
        except ValueError as exc:
            raise NotFound(str(exc)) from exc
        body = self.request("GET", f"/incidents/{incident_id}")
        return incident_from_api(body["incident"])

    def list_alerts(self, incident_id: str) -> list[PdAlert]:
        """Return an incident's alerts, oldest first."""
        items = self.paginate(f"/incidents/{incident_id}/alerts", "alerts")
        return sorted((alert_from_api(a) for a in items), key=lambda a: a.created_at)

    def list_log_entries(self, incident_id: str, *, overview: bool = True) -> list[PdLogEntry]:
        """Return an incident's log entries (only the important ones by default), oldest first."""
        params = {"is_overview": "true"} if overview else {}
        items = self.paginate(f"/incidents/{incident_id}/log_entries", "log_entries", params)
        return sorted((log_entry_from_api(e) for e in items), key=lambda e: e.created_at)

    def find_service(self, name: str) -> PdService | None:
        """Find a service by id or name (exact match first, then a unique partial match)."""
        found = [
            service_from_api(s) for s in self.paginate("/services", "services", {"query": name})
        ]
        return _pick(found, name)

    def find_escalation_policy(self, name: str) -> PdEscalationPolicy | None:
        """Find an escalation policy by id or name."""
        items = self.paginate("/escalation_policies", "escalation_policies", {"query": name})
        found = [
            PdEscalationPolicy(id=p["id"], name=str(p.get("name") or p.get("summary")))
            for p in items
        ]
        return _pick(found, name)

    def list_oncalls(self, query: str | None = None) -> list[PdOncall]:
        """Return who is on call now, for a service or escalation policy (name or id) or all."""
        params: dict[str, Any] = {"include[]": ["users"], "earliest": "true"}
        if query:
            service = self.find_service(query)
            if service is not None and service.escalation_policy_id:
                params["escalation_policy_ids[]"] = [service.escalation_policy_id]
            else:
                policy = self.find_escalation_policy(query)
                if policy is None:
                    raise NotFound(f"no PagerDuty service or escalation policy matches {query!r}")
                params["escalation_policy_ids[]"] = [policy.id]
        items = self.paginate("/oncalls", "oncalls", params)
        oncalls = [oncall_from_api(o) for o in items]
        return sorted(
            oncalls, key=lambda o: (o.escalation_policy_name, o.escalation_level, o.user_name)
        )

    def iter_incidents(
        self, since: datetime, until: datetime, *, on_page: PageHook | None = None
    ) -> Iterator[PdIncident]:
        """Yield every incident created in [since, until), with services included."""
        params = {"include[]": ["services"], "sort_by": "created_at:asc"}
        for item in self.paginate_window("/incidents", "incidents", since, until, params, on_page):
            yield incident_from_api(item)

    def iter_log_entries(
        self, since: datetime, until: datetime, *, on_page: PageHook | None = None
    ) -> Iterator[PdLogEntry]:
        """Yield the account's overview log entries created in [since, until)."""
        params = {"is_overview": "true"}
        for item in self.paginate_window(
            "/log_entries", "log_entries", since, until, params, on_page
        ):
            yield log_entry_from_api(item)

    # ---- writes -------------------------------------------------------------
    def _require_from(self) -> None:
        if not self.client.default_from:
            raise NotConfigured(
                "set PAGERDUTY_FROM_EMAIL: PagerDuty requires a From header for writes"
            )

    def create_incident(
        self,
        service_id: str,
        title: str,
        body_details: str,
        *,
        urgency: str = "high",
        incident_key: str | None = None,
    ) -> PdIncident:
        """Open a PagerDuty incident on a service, at most once per incident_key.

        A POST retried after a lost answer finds the incident it already created (PagerDuty
        refuses a second open incident with the same key on a service).
        """
        self._require_from()
        incident: dict[str, Any] = {
            "type": "incident",
            "title": title[:255],
            "service": {"id": service_id, "type": "service_reference"},
            "urgency": urgency,
            "body": {"type": "incident_body", "details": body_details},
        }
        if incident_key:
            incident["incident_key"] = incident_key
        try:
            created = self.request("POST", "/incidents", json={"incident": incident})
        except IntegrationError as exc:
            if not incident_key or "matching dedup key" not in str(exc):
                raise
            found = self.request(
                "GET",
                "/incidents",
                params={
                    "incident_key": incident_key,
                    "service_ids[]": [service_id],
                    "date_range": "all",
                },
            )["incidents"]
            if not found:
                raise
            return incident_from_api(found[0])
        return incident_from_api(created["incident"])

    def resolve_incident(self, incident_id: str) -> None:
        """Resolve a PagerDuty incident (already resolved is fine)."""
        self._require_from()
        payload = {"incident": {"type": "incident_reference", "status": "resolved"}}
        try:
            self.request("PUT", f"/incidents/{incident_id}", json=payload)
        except IntegrationError as exc:
            if "code 1001" not in str(exc):  # Incident Already Resolved
                raise

    def close(self) -> None:
        """Close the HTTP connections."""
        self.client.close()


Named = TypeVar("Named", PdService, PdEscalationPolicy)


def _pick(found: list[Named], name: str) -> Named | None:
    wanted = name.strip().lower()
    exact = [s for s in found if s.id == name.strip() or s.name.lower() == wanted]
    if exact:
        return exact[0]
    return found[0] if len(found) == 1 else None


def make_pagerduty(settings: Settings, **kwargs: Any) -> PagerDutyAdapter | None:
    """Return the adapter, or None when PagerDuty is not configured."""
    try:
        return PagerDutyAdapter.from_settings(settings, **kwargs)
    except NotConfigured:
        return None
