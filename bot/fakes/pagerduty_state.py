"""The in-memory PagerDuty account behind FakePagerDuty, with seeding helpers.

Objects are stored in the JSON shapes of the REST API v2 reference (developer.pagerduty.com):
incidents with service/priority/assignment references and alert_counts, alerts, log entries
(trigger, notify, acknowledge, escalate, resolve...), services, escalation policies, users and
on-call entries.
"""

from __future__ import annotations

import bisect
import itertools
import random
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

API = "https://api.pagerduty.com"
WEB = "https://acme.pagerduty.com"

# Log entry types that GET /log_entries?is_overview=true keeps ("the most important changes").
OVERVIEW_TYPES = {
    "trigger_log_entry",
    "acknowledge_log_entry",
    "unacknowledge_log_entry",
    "escalate_log_entry",
    "assign_log_entry",
    "annotate_log_entry",
    "resolve_log_entry",
    "reach_trigger_limit_log_entry",
}

_TITLES = [
    "High CPU on web-{n:02d}",
    "Disk usage {n}% on db-{hex}",
    "Checkout latency p99 above {n}ms",
    "Pod {uuid} in CrashLoopBackOff",
    "Queue depth {n} on payments-worker",
    "5xx rate above {n}% on api-gateway",
    "Certificate for host-{n} expires soon",
    "Replication lag {n}s on replica-{hex}",
]


def iso(value: datetime) -> str:
    """Format a datetime as PagerDuty does (UTC, seconds, Z)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ref(kind: str, obj: dict[str, Any], path: str) -> dict[str, Any]:
    """Return a reference object to a stored object."""
    return {
        "id": obj["id"],
        "type": f"{kind}_reference",
        "summary": obj.get("summary") or obj.get("name"),
        "self": f"{API}/{path}/{obj['id']}",
        "html_url": f"{WEB}/{path}/{obj['id']}",
    }


class PagerDutyState:
    """Services, users, policies, on-calls, incidents, alerts and log entries."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._ids = itertools.count(1)
        self.services: dict[str, dict[str, Any]] = {}
        self.policies: dict[str, dict[str, Any]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.priorities: dict[str, dict[str, Any]] = {}
        self.oncalls: list[dict[str, Any]] = []
        self.incidents: dict[str, dict[str, Any]] = {}
        self.alerts: dict[str, list[dict[str, Any]]] = {}
        self.incident_logs: dict[str, list[dict[str, Any]]] = {}
        # Sorted (created_at, id) indexes so since/until pages stay cheap at 10^4 objects.
        self.incident_index: list[tuple[str, str]] = []
        self.log_index: list[tuple[str, str, dict[str, Any]]] = []
        for n in range(1, 6):
            pid = self.new_id("P")
            self.priorities[f"P{n}"] = {
                "id": pid,
                "type": "priority",
                "name": f"P{n}",
                "summary": f"P{n}",
                "self": f"{API}/priorities/{pid}",
                "html_url": f"{WEB}/account/incident_priorities",
            }

    def new_id(self, prefix: str = "P") -> str:
        """Return a fresh PagerDuty-style id (uppercase letters and digits)."""
        n, digits = next(self._ids), ""
        alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        while n:
            n, rem = divmod(n, 36)
            digits = alphabet[rem] + digits
        return prefix + digits.rjust(6, "0")

    # ---- seeding ----------------------------------------------------------
    def add_user(self, name: str, email: str) -> dict[str, Any]:
        """Add a user."""
        uid = self.new_id("U")
        user = {
            "id": uid,
            "type": "user",
            "name": name,
            "summary": name,
            "email": email,
            "self": f"{API}/users/{uid}",
            "html_url": f"{WEB}/users/{uid}",
        }
        self.users[uid] = user
        return user

    def add_escalation_policy(self, name: str) -> dict[str, Any]:
        """Add an escalation policy."""
        pid = self.new_id("E")
        policy = {
            "id": pid,
            "type": "escalation_policy",
            "name": name,
            "summary": name,
            "self": f"{API}/escalation_policies/{pid}",
            "html_url": f"{WEB}/escalation_policies/{pid}",
        }
        self.policies[pid] = policy
        return policy

    def add_service(self, name: str, policy: dict[str, Any] | None = None) -> dict[str, Any]:
        """Add a service (with its own escalation policy unless one is given)."""
        policy = policy or self.add_escalation_policy(f"{name} policy")
        sid = self.new_id("S")
        service = {
            "id": sid,
            "type": "service",
            "name": name,
            "summary": name,
            "description": "",
            "status": "active",
            "created_at": iso(datetime(2024, 1, 1, tzinfo=UTC)),
            "escalation_policy": ref("escalation_policy", policy, "escalation_policies"),
            "incident_urgency_rule": {"type": "constant", "urgency": "high"},
            "teams": [],
            "self": f"{API}/services/{sid}",
            "html_url": f"{WEB}/service-directory/{sid}",
        }
        self.services[sid] = service
        return service

    def add_oncall(
        self,
        user: dict[str, Any],
        policy: dict[str, Any],
        level: int = 1,
        schedule: str | None = None,
    ) -> None:
        """Put a user on call for a level of an escalation policy."""
        now = datetime.now(UTC)
        sched = None
        if schedule:
            sched = {"id": self.new_id("C"), "summary": schedule, "type": "schedule_reference"}
        self.oncalls.append(
            {
                "escalation_policy": ref("escalation_policy", policy, "escalation_policies"),
                "escalation_level": level,
                "schedule": sched,
                "user": ref("user", user, "users"),
                "start": iso(now - timedelta(hours=8)),
                "end": iso(now + timedelta(hours=16)),
            }
        )

    def add_incident(
        self,
        service: dict[str, Any],
        title: str,
        *,
        created_at: datetime | None = None,
        urgency: str = "high",
        priority: str | None = None,
        incident_key: str | None = None,
        alerts: int = 1,
        acknowledged_by: dict[str, Any] | None = None,
        ack_after: timedelta = timedelta(minutes=4),
        escalated: bool = False,
        resolved_after: timedelta | None = None,
        resolved_by: dict[str, Any] | None = None,
        index: bool = True,
    ) -> dict[str, Any]:
        """Add an incident with its alerts and log entries, as PagerDuty would record them."""
        created = (created_at or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
        iid = self.new_id("Q")
        number = len(self.incidents) + 1
        policy = service["escalation_policy"]
        resolved = resolved_after is not None
        status = "resolved" if resolved else ("acknowledged" if acknowledged_by else "triggered")
        incident: dict[str, Any] = {
            "id": iid,
            "type": "incident",
            "summary": f"[#{number}] {title}",
            "title": title,
            "incident_number": number,
            "created_at": iso(created),
            "updated_at": iso(created),
            "status": status,
            "incident_key": incident_key or uuid.uuid4().hex,
            "service": ref("service", service, "services"),
            "escalation_policy": policy,
            "assignments": [],
            "acknowledgements": [],
            "teams": [],
            "pending_actions": [],
            "urgency": urgency,
            "resolve_reason": None,
            "last_status_change_at": iso(created),
            "priority": ref("priority", self.priorities[priority], "priorities")
            if priority
            else None,
            "alert_counts": {
                "all": alerts,
                "triggered": 0 if resolved else alerts,
                "resolved": alerts if resolved else 0,
            },
            "self": f"{API}/incidents/{iid}",
            "html_url": f"{WEB}/incidents/{iid}",
        }
        inc_ref = ref("incident", incident, "incidents")
        svc_ref = incident["service"]
        alert_ids = [self.new_id("A") for _ in range(alerts)]
        self.alerts[iid] = [
            {
                "id": alert_ids[i],
                "type": "alert",
                "summary": title,
                "created_at": iso(created + timedelta(seconds=30 * i)),
                "status": "resolved" if resolved else "triggered",
                "alert_key": incident["incident_key"],
                "service": svc_ref,
                "incident": inc_ref,
                "severity": "critical" if urgency == "high" else "warning",
                "suppressed": False,
                "body": {"type": "alert_body", "details": {"n": i}},
                "self": f"{API}/incidents/{iid}/alerts/{alert_ids[i]}",
                "html_url": f"{WEB}/alerts/{alert_ids[i]}",
            }
            for i in range(alerts)
        ]
        logs = [self._log("trigger", created, incident, svc_ref, "Triggered through the API.")]
        first_user = next(iter(self.users.values()), None)
        if first_user is not None:
            agent = ref("user", first_user, "users")
            logs.append(
                self._log(
                    "notify",
                    created + timedelta(seconds=5),
                    incident,
                    agent,
                    f"Notified {first_user['name']} by push.",
                )
            )
            incident["assignments"] = [{"at": iso(created), "assignee": agent}]
        if escalated:
            logs.append(
                self._log(
                    "escalate",
                    created + timedelta(minutes=5),
                    incident,
                    svc_ref,
                    "Escalated to level 2 by timeout.",
                )
            )
        if acknowledged_by is not None:
            at = created + ack_after
            who = ref("user", acknowledged_by, "users")
            logs.append(
                self._log(
                    "acknowledge", at, incident, who, f"Acknowledged by {acknowledged_by['name']}."
                )
            )
            if not resolved:
                incident["acknowledgements"] = [{"at": iso(at), "acknowledger": who}]
        if resolved_after is not None:
            who = ref("user", resolved_by, "users") if resolved_by else svc_ref
            text = (
                f"Resolved by {resolved_by['name']}."
                if resolved_by
                else "Resolved through the API."
            )
            logs.append(self._log("resolve", created + resolved_after, incident, who, text))
        logs.sort(key=lambda e: e["created_at"])
        incident["first_trigger_log_entry"] = {k: logs[0][k] for k in ("id", "type", "summary")}
        incident["last_status_change_at"] = logs[-1]["created_at"]
        with self.lock:
            self.incidents[iid] = incident
            self.incident_logs[iid] = logs
            if index:
                bisect.insort(self.incident_index, (incident["created_at"], iid))
                for entry in logs:
                    bisect.insort(self.log_index, (entry["created_at"], entry["id"], entry))
        return incident

    def _log(
        self, action: str, at: datetime, incident: dict[str, Any], agent: dict[str, Any], text: str
    ) -> dict[str, Any]:
        lid = self.new_id("R")
        return {
            "id": lid,
            "type": f"{action}_log_entry",
            "summary": text,
            "created_at": iso(at),
            "agent": agent,
            "channel": {"type": "api"},
            "incident": ref("incident", incident, "incidents"),
            "service": incident["service"],
            "teams": [],
            "self": f"{API}/log_entries/{lid}",
            "html_url": f"{WEB}/incidents/{incident['id']}/log_entries/{lid}",
        }

    def add_log_entry(self, incident_id: str, action: str, *, at: datetime, text: str) -> None:
        """Append a log entry (e.g. an escalation) to an existing incident."""
        with self.lock:
            incident = self.incidents[incident_id]
            entry = self._log(action, at, incident, incident["service"], text)
            self.incident_logs[incident_id].append(entry)
            bisect.insort(self.log_index, (entry["created_at"], entry["id"], entry))

    def generate(
        self,
        *,
        incidents: int,
        alerts: int,
        since: datetime,
        until: datetime,
        services: int = 8,
        high_share: float = 0.4,
        ack_share: float = 0.7,
        seed: int = 7,
    ) -> None:
        """Seed many incidents (and alerts spread over them) between since and until, quickly."""
        rng = random.Random(seed)
        users = list(self.users.values()) or [self.add_user("Sam Oncall", "sam@example.com")]
        svcs = [self.add_service(f"service-{i:02d}") for i in range(services)]
        extra = [0] * incidents
        for _ in range(max(alerts - incidents, 0)):
            extra[rng.randrange(incidents)] += 1
        span = (until - since).total_seconds()
        for i in range(incidents):
            template = rng.choice(_TITLES)
            title = template.format(
                n=rng.randint(1, 99), hex=uuid.uuid4().hex[:8], uuid=uuid.uuid4()
            )
            acked = rng.random() < ack_share
            self.add_incident(
                svcs[_TITLES.index(template) % len(svcs)]
                if rng.random() < 0.8
                else rng.choice(svcs),
                title,
                created_at=since + timedelta(seconds=rng.uniform(0, span - 7200)),
                urgency="high" if rng.random() < high_share else "low",
                incident_key=None if rng.random() < 0.9 else f"key-{rng.randint(1, 20)}",
                alerts=1 + extra[i],
                acknowledged_by=rng.choice(users) if acked else None,
                ack_after=timedelta(seconds=rng.randint(30, 1800)),
                escalated=rng.random() < 0.1,
                resolved_after=timedelta(minutes=rng.randint(10, 100)),
                index=False,
            )
        with self.lock:
            self.incident_index = sorted((v["created_at"], k) for k, v in self.incidents.items())
            self.log_index = sorted(
                (
                    (e["created_at"], e["id"], e)
                    for logs in self.incident_logs.values()
                    for e in logs
                ),
                key=lambda t: (t[0], t[1]),
            )
