"""PagerDuty objects as the bot sees them: plain dataclasses parsed from the REST and webhook JSON.

The parsers read the documented JSON shapes (developer.pagerduty.com); they import no SDK, so
the adapter, the webhook inbox and the fake all share them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from bot.settings import Settings

_URL_ID = re.compile(r"/incidents/([A-Za-z0-9]+)")
_REF = re.compile(r"^[A-Za-z0-9]{1,40}$")


@dataclass(frozen=True)
class PdService:
    """A PagerDuty service."""

    id: str
    name: str
    html_url: str | None = None
    escalation_policy_id: str | None = None


@dataclass(frozen=True)
class PdEscalationPolicy:
    """A PagerDuty escalation policy."""

    id: str
    name: str


@dataclass(frozen=True)
class PdIncident:
    """A PagerDuty incident (one page, grouping one or more alerts)."""

    id: str
    number: int
    title: str
    status: str
    urgency: str
    priority: str | None
    service_id: str
    service_name: str
    incident_key: str | None
    html_url: str
    created_at: datetime
    alert_count: int = 0
    acknowledgers: tuple[str, ...] = ()
    assignees: tuple[str, ...] = ()
    escalation_policy: str | None = None


@dataclass(frozen=True)
class PdAlert:
    """One alert of a PagerDuty incident."""

    id: str
    summary: str
    status: str
    severity: str | None
    created_at: datetime
    alert_key: str | None = None
    html_url: str | None = None


@dataclass(frozen=True)
class PdLogEntry:
    """One log entry of a PagerDuty incident (trigger, acknowledge, escalate, resolve...)."""

    id: str
    type: str
    created_at: datetime
    summary: str
    incident_id: str | None
    agent: str | None = None

    @property
    def action(self) -> str:
        """Return the short action name: 'trigger', 'acknowledge', 'resolve'..."""
        return self.type.removesuffix("_log_entry").removesuffix("_reference")


@dataclass(frozen=True)
class PdOncall:
    """Who is on call now for one escalation level."""

    user_id: str
    user_name: str
    user_email: str | None
    escalation_policy_id: str
    escalation_policy_name: str
    escalation_level: int
    schedule_name: str | None = None


@dataclass(frozen=True)
class OncallPerson:
    """Someone on call now, with their Slack account when one matches their email."""

    name: str
    email: str | None
    slack_user_id: str | None
    escalation_policy: str
    escalation_level: int
    schedule: str | None = None


def parse_time(value: str) -> datetime:
    """Parse PagerDuty's ISO 8601 timestamps ('Z' or an offset) into aware UTC datetimes."""
    if not isinstance(value, str):
        raise TypeError("a time must be an ISO 8601 string")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def format_time(value: datetime) -> str:
    """Format an aware datetime the way PagerDuty's since/until parameters expect."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def incident_ref(text: str) -> str:
    """Return the incident id from an id or an incident URL; raise ValueError otherwise."""
    text = text.strip().strip("<>")
    match = _URL_ID.search(text)
    ref = match.group(1) if match else text
    if not _REF.match(ref):
        raise ValueError(f"{text!r} is neither a PagerDuty incident id nor an incident URL")
    return ref


def _name(ref: dict[str, Any] | None) -> str:
    if not ref:
        return ""
    return str(ref.get("name") or ref.get("summary") or ref.get("email") or ref.get("id") or "")


def _obj(value: Any) -> dict[str, Any]:
    """Return a JSON object field ({} when absent); raise TypeError for any other type."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TypeError(f"expected an object, got {type(value).__name__}")
    return value


def _objs(value: Any) -> list[dict[str, Any]]:
    """Return a JSON list of objects ([] when absent); raise TypeError for any other shape."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise TypeError(f"expected a list, got {type(value).__name__}")
    return [_obj(item) for item in value]


def safe_web_url(value: Any) -> str:
    """Return a PagerDuty web link fit to post, or '' for anything else.

    Only https links to pagerduty.com (and its subdomains) are kept, and none with characters
    that end a Slack link early: a crafted ``https://evil.example|<!channel>`` is dropped.
    """
    if not isinstance(value, str) or len(value) > 500 or re.search(r"[\s<>|]", value):
        return ""
    parts = urlsplit(value)
    host = (parts.hostname or "").lower()
    ok = parts.scheme == "https" and (host == "pagerduty.com" or host.endswith(".pagerduty.com"))
    return value if ok else ""


def _incident_id(value: Any) -> str:
    if not isinstance(value, str) or not _REF.match(value):
        raise ValueError("a PagerDuty incident needs an id")
    return value


def incident_from_api(data: dict[str, Any]) -> PdIncident:
    """Build a PdIncident from a REST incident or a webhook's incident data.

    Raise ValueError or TypeError when a field has the wrong type or the id is missing.
    """
    service = _obj(data.get("service"))
    priority = _obj(data.get("priority"))
    counts = _obj(data.get("alert_counts"))
    acks = _objs(data.get("acknowledgements"))
    assignments = _objs(data.get("assignments"))
    assignees = [_obj(a.get("assignee")) for a in assignments] or _objs(data.get("assignees"))
    return PdIncident(
        id=_incident_id(data.get("id")),
        number=int(data.get("incident_number") or data.get("number") or 0),
        title=str(data.get("title") or data.get("summary") or ""),
        status=str(data.get("status") or "triggered"),
        urgency=str(data.get("urgency") or "high"),
        priority=_name(priority) or None,
        service_id=str(service.get("id") or ""),
        service_name=_name(service),
        incident_key=data.get("incident_key") or None,
        html_url=safe_web_url(data.get("html_url")),
        created_at=parse_time(data["created_at"]),
        alert_count=int(counts.get("all") or 0),
        acknowledgers=tuple(_name(_obj(a.get("acknowledger"))) for a in acks),
        assignees=tuple(_name(a) for a in assignees if a),
        escalation_policy=_name(_obj(data.get("escalation_policy"))) or None,
    )


def alert_from_api(data: dict[str, Any]) -> PdAlert:
    """Build a PdAlert from a REST alert."""
    return PdAlert(
        id=str(data["id"]),
        summary=str(data.get("summary") or ""),
        status=str(data.get("status") or "triggered"),
        severity=data.get("severity"),
        created_at=parse_time(data["created_at"]),
        alert_key=data.get("alert_key"),
        html_url=data.get("html_url"),
    )


def log_entry_from_api(data: dict[str, Any]) -> PdLogEntry:
    """Build a PdLogEntry from a REST log entry."""
    incident = data.get("incident") or {}
    return PdLogEntry(
        id=str(data["id"]),
        type=str(data.get("type") or ""),
        created_at=parse_time(data["created_at"]),
        summary=str(data.get("summary") or ""),
        incident_id=incident.get("id"),
        agent=_name(data.get("agent")) or None,
    )


def oncall_from_api(data: dict[str, Any]) -> PdOncall:
    """Build a PdOncall from a REST on-call entry (with include[]=users for the email)."""
    user = data.get("user") or {}
    policy = data.get("escalation_policy") or {}
    return PdOncall(
        user_id=str(user.get("id") or ""),
        user_name=_name(user),
        user_email=user.get("email"),
        escalation_policy_id=str(policy.get("id") or ""),
        escalation_policy_name=_name(policy),
        escalation_level=int(data.get("escalation_level") or 1),
        schedule_name=_name(data.get("schedule")) or None,
    )


def service_from_api(data: dict[str, Any]) -> PdService:
    """Build a PdService from a REST service."""
    policy = data.get("escalation_policy") or {}
    return PdService(
        id=str(data["id"]),
        name=_name(data),
        html_url=data.get("html_url"),
        escalation_policy_id=policy.get("id"),
    )


def time_to_acknowledge(entries: list[PdLogEntry]) -> timedelta | None:
    """Return the time from the first trigger to the first acknowledgement, if any."""
    triggers = [e.created_at for e in entries if e.action == "trigger"]
    acks = [e.created_at for e in entries if e.action == "acknowledge"]
    if not triggers or not acks:
        return None
    return max(min(acks) - min(triggers), timedelta(0))


def _priority_rank(name: str, ordered: list[str]) -> int | None:
    if name in ordered:
        return ordered.index(name)
    match = re.search(r"(\d+)", name)
    return int(match.group(1)) - 1 if match else None


def priority_at_or_above(priority: str | None, threshold: str | None, ordered: list[str]) -> bool:
    """Say whether a priority is as high as the threshold (P1 is above P2)."""
    if not priority or not threshold:
        return False
    rank, limit = _priority_rank(priority, ordered), _priority_rank(threshold, ordered)
    return rank is not None and limit is not None and rank <= limit


def deserves_declare(incident: PdIncident, settings: Settings) -> bool:
    """Say whether a triggered PagerDuty incident should be offered as a SEV."""
    if settings.pagerduty_declare_min_urgency == "low" or incident.urgency == "high":
        return True
    ordered = list(settings.pagerduty_severity_map.priorities)
    return priority_at_or_above(incident.priority, settings.pagerduty_priority_threshold, ordered)


def severity_for(incident: PdIncident, settings: Settings) -> str:
    """Map a PagerDuty priority (first) or urgency to one of our severities."""
    mapping = settings.pagerduty_severity_map
    if incident.priority and incident.priority in mapping.priorities:
        return mapping.priorities[incident.priority]
    return mapping.urgencies.get(incident.urgency, settings.default_severity)
