"""The biweekly alert review, computed from plain PagerDuty incidents and log entries.

Pure functions: no database, no SDK. An "alert" in the rankings is a group of incidents with the
same service and normalised title (numbers, hex and UUIDs removed); an incident_key wins.
"""

from __future__ import annotations

import re
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.i18n import _
from bot.pagerduty.domain import PdIncident, PdLogEntry
from bot.text import neutralise_external as neutralise

_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)
_HEX = re.compile(r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{6,}\b", re.I)
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_GENERATED = {"<uuid>", "<hex>", "<n>"}


def normalise_title(title: str) -> str:
    """Replace UUIDs, hex ids and numbers by placeholders so repeats of an alert group."""
    text = _UUID.sub("<uuid>", title)
    text = _HEX.sub("<hex>", text)
    text = _NUMBER.sub("<n>", text)
    return " ".join(text.split())


def group_of(incident: PdIncident) -> tuple[str, str]:
    """Return the (key, label) an incident is ranked under."""
    normal = normalise_title(incident.title)
    # PagerDuty fills incident_key with a random hex id when the sender gave none: not a key.
    if incident.incident_key and normalise_title(incident.incident_key) not in _GENERATED:
        return f"key:{incident.service_name}:{incident.incident_key}", normal
    return f"title:{incident.service_name}:{normal.lower()}", normal


def parse_night_hours(spec: str) -> tuple[int, int]:
    """Parse '22-08' into (22, 8); raise ValueError for hours outside 0-23."""
    start, _, end = spec.partition("-")
    hours = int(start), int(end)
    if not all(0 <= h <= 23 for h in hours) or hours[0] == hours[1]:
        raise ValueError(f"NIGHT_HOURS {spec!r}: use two different hours 0-23, like 22-08")
    return hours


def is_night(at: datetime, tz: ZoneInfo, hours: tuple[int, int]) -> bool:
    """Say whether a time falls in the night hours of a timezone (the range may wrap midnight)."""
    local = at.astimezone(tz).time()
    start, end = time(hours[0]), time(hours[1])
    return start <= local < end if start < end else local >= start or local < end


@dataclass(frozen=True)
class Reviewed:
    """One incident with what the review needs from its log entries."""

    incident: PdIncident
    key: str
    label: str
    acknowledged_at: datetime | None
    resolved: bool


def join_log_entries(incidents: list[PdIncident], entries: list[PdLogEntry]) -> list[Reviewed]:
    """Attach the first acknowledgement and the resolution to each incident."""
    acks: dict[str, datetime] = {}
    resolved: set[str] = set()
    for entry in entries:
        if entry.incident_id is None:
            continue
        if entry.action == "acknowledge":
            first = acks.get(entry.incident_id)
            acks[entry.incident_id] = min(first, entry.created_at) if first else entry.created_at
        elif entry.action == "resolve":
            resolved.add(entry.incident_id)
    out = []
    for inc in incidents:
        key, label = group_of(inc)
        done = inc.id in resolved or inc.status == "resolved"
        out.append(Reviewed(inc, key, label, acks.get(inc.id), done))
    return out


@dataclass(frozen=True)
class Ranked:
    """A high-urgency alert group with its numbers."""

    key: str
    label: str
    service: str
    count: int
    median_ack_seconds: float | None
    resolved_without_ack: int
    resolved: int

    @property
    def unacked_rate(self) -> float | None:
        """Return the share of resolved incidents nobody acknowledged."""
        return self.resolved_without_ack / self.resolved if self.resolved else None


@dataclass
class WindowStats:
    """The numbers of one review window."""

    since: datetime
    until: datetime
    incidents: int = 0
    alerts: int = 0
    night_pages: int = 0
    services: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    ranking: list[Ranked] = field(default_factory=list)
    low_groups: list[tuple[str, str, str, int]] = field(default_factory=list)


def window_stats(
    items: list[Reviewed],
    since: datetime,
    until: datetime,
    *,
    tz: ZoneInfo,
    night_hours: tuple[int, int],
) -> WindowStats:
    """Compute per-service counts, night pages, the high-urgency ranking and low-urgency groups."""
    stats = WindowStats(since, until)
    groups: dict[str, list[Reviewed]] = defaultdict(list)
    services: dict[str, dict[str, dict[str, int]]] = defaultdict(
        lambda: defaultdict(lambda: {"incidents": 0, "alerts": 0, "night": 0})
    )
    for item in items:
        inc = item.incident
        if not since <= inc.created_at < until:
            continue
        alerts = max(inc.alert_count, 1)
        stats.incidents += 1
        stats.alerts += alerts
        cell = services[inc.service_name][inc.urgency]
        cell["incidents"] += 1
        cell["alerts"] += alerts
        if inc.urgency == "high" and is_night(inc.created_at, tz, night_hours):
            cell["night"] += 1
            stats.night_pages += 1
        groups[f"{inc.urgency}|{item.key}"].append(item)
    stats.services = {name: dict(by) for name, by in sorted(services.items())}
    for group_key, members in groups.items():
        urgency, key = group_key.split("|", 1)
        first = members[0]
        if urgency == "low":
            stats.low_groups.append((key, first.label, first.incident.service_name, len(members)))
            continue
        waits = [
            (m.acknowledged_at - m.incident.created_at).total_seconds()
            for m in members
            if m.acknowledged_at is not None
        ]
        resolved = [m for m in members if m.resolved]
        stats.ranking.append(
            Ranked(
                key=key,
                label=first.label,
                service=first.incident.service_name,
                count=len(members),
                median_ack_seconds=max(statistics.median(waits), 0.0) if waits else None,
                resolved_without_ack=sum(1 for m in resolved if m.acknowledged_at is None),
                resolved=len(resolved),
            )
        )
    stats.ranking.sort(key=lambda r: (-r.count, r.service, r.label))
    stats.low_groups.sort(key=lambda g: (-g[3], g[2], g[1]))
    return stats


def choose_picks(
    candidates: list[tuple[str, str, str, int]], already: set[str], n: int
) -> tuple[list[tuple[str, str, str, int]], list[tuple[str, str, str, int]]]:
    """Pick n low-urgency groups not picked in this cycle; return (old-cycle, new-cycle) picks.

    When fewer than n are left, the cycle is exhausted: the rest come from a fresh cycle.
    """
    fresh = [c for c in candidates if c[0] not in already]
    taken = fresh[:n]
    if len(taken) == n or not candidates:
        return taken, []
    keys = {c[0] for c in taken}
    refill = [c for c in candidates if c[0] not in keys][: n - len(taken)]
    return taken, refill


@dataclass
class Review:
    """A whole review: this window, the previous one, and the picks."""

    current: WindowStats
    previous: WindowStats
    picks: list[tuple[str, str, str, int]]
    timezone: str


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return _("n/a")
    minutes = seconds / 60
    if minutes < 120:
        return _("{n}m", n=f"{minutes:.0f}")
    return _("{n}h", n=f"{minutes / 60:.1f}")


def _trend(now: int, before: int) -> str:
    delta = now - before
    change = f"{'+' if delta >= 0 else ''}{delta}"
    return _("{now} ({change} vs {before})", now=now, change=change, before=before)


def render_text(review: Review, *, top: int = 10, for_slack: bool = True) -> str:
    """Render the review as Slack mrkdwn (escaped), or as plain text for a terminal."""
    cur, prev = review.current, review.previous
    esc = neutralise if for_slack else str
    lines = [
        _(
            "*Alert review {since} → {until}* ({timezone})",
            since=f"{cur.since:%Y-%m-%d}",
            until=f"{cur.until:%Y-%m-%d}",
            timezone=review.timezone,
        ),
        _(
            "Incidents: {incidents} · alerts: {alerts} · night pages: {night}",
            incidents=_trend(cur.incidents, prev.incidents),
            alerts=_trend(cur.alerts, prev.alerts),
            night=_trend(cur.night_pages, prev.night_pages),
        ),
        "",
        _("*Per service* (incidents/alerts by urgency, night pages):"),
    ]
    for name, by in cur.services.items():
        before = prev.services.get(name, {})
        parts = []
        for urgency in ("high", "low"):
            cell = by.get(urgency)
            if cell:
                was = before.get(urgency, {}).get("incidents", 0)
                parts.append(
                    _(
                        "{urgency} {incidents}/{alerts} (prev {was})",
                        urgency=urgency,
                        incidents=cell["incidents"],
                        alerts=cell["alerts"],
                        was=was,
                    )
                )
        night = sum(c["night"] for c in by.values())
        lines.append(f"• {esc(name)}: " + ", ".join(parts) + _(", night {n}", n=night))
    if not cur.services:
        lines.append(_("• no incidents in this window"))
    lines += [
        "",
        _("*High-urgency alerts* (count · median time to ack · resolved without ack):"),
    ]
    prev_counts = {r.key: r.count for r in prev.ranking}
    for r in cur.ranking[:top]:
        rate = _("n/a") if r.unacked_rate is None else f"{r.unacked_rate:.0%}"
        flag = _(" — should this still wake someone?") if (r.unacked_rate or 0) >= 0.5 else ""
        was = prev_counts.get(r.key, 0)
        lines.append(
            f"• {esc(r.service)} · {esc(r.label)}: "
            + _("{count} (prev {was})", count=r.count, was=was)
            + f" · {_duration(r.median_ack_seconds)} · {rate}{flag}"
        )
    if not cur.ranking:
        lines.append(_("• none"))
    lines += ["", _("*Low-urgency alerts to discuss:*")]
    lines += [f"• {esc(s)} · {esc(label)} ({count}×)" for _key, label, s, count in review.picks]
    if not review.picks:
        lines.append(_("• none"))
    return "\n".join(lines)


def _window_json(stats: WindowStats) -> dict[str, Any]:
    return {
        "since": stats.since.isoformat(),
        "until": stats.until.isoformat(),
        "incidents": stats.incidents,
        "alerts": stats.alerts,
        "night_pages": stats.night_pages,
        "services": stats.services,
        "ranking": [
            {
                "service": r.service,
                "alert": r.label,
                "count": r.count,
                "median_ack_seconds": r.median_ack_seconds,
                "resolved": r.resolved,
                "resolved_without_ack": r.resolved_without_ack,
                "resolved_without_ack_rate": r.unacked_rate,
            }
            for r in stats.ranking
        ],
        "low_urgency_groups": [
            {"service": g[2], "alert": g[1], "count": g[3]} for g in stats.low_groups
        ],
    }


def render_json(review: Review) -> dict[str, Any]:
    """Return the review as JSON-ready data: counts, rankings, picks, and the previous window."""
    return {
        "timezone": review.timezone,
        "current": _window_json(review.current),
        "previous": _window_json(review.previous),
        "picks": [
            {"service": service, "alert": label, "count": count}
            for _, label, service, count in review.picks
        ],
    }


def windows(now: datetime, span: timedelta) -> tuple[datetime, datetime, datetime]:
    """Return (previous since, current since, until) for a review of [now - span, now)."""
    return now - 2 * span, now - span, now
