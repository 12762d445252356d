"""The incident review's figures, computed from IncidentFacts. Pure: no database, no Slack.

Each period is measured as of its end: something that happened after it (a resolve, a
booking) has not happened yet for that period, so a review of a past window never changes.
"""

from __future__ import annotations

import math
import statistics
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.reviews.data import IncidentFacts

MEASURES = ("acknowledge", "mitigate", "resolve")
LONGEST = 5
NOT_LINKED = "(no PagerDuty link)"


def p90(values: list[float]) -> float:
    """Return the 90th percentile by nearest rank (the smallest value >= 90% of the values)."""
    ordered = sorted(values)
    return ordered[max(math.ceil(0.9 * len(ordered)), 1) - 1]


@dataclass(frozen=True)
class Summary:
    """Median and p90 of a set of durations, in seconds."""

    count: int
    median: float | None
    p90: float | None

    @classmethod
    def of(cls, values: list[float]) -> Summary:
        """Summarise durations (empty gives None figures)."""
        if not values:
            return cls(0, None, None)
        return cls(len(values), float(statistics.median(values)), float(p90(values)))


@dataclass(frozen=True)
class Share:
    """How many of the due items met the target."""

    met: int
    due: int

    @property
    def ratio(self) -> float | None:
        """Return met/due, or None when nothing was due."""
        return self.met / self.due if self.due else None


@dataclass(frozen=True)
class Longest:
    """One of the longest incidents of the period."""

    number: int
    title: str | None  # None for a private incident: counted, never named
    severity: str
    seconds: float
    open: bool


@dataclass
class PeriodStats:
    """The figures of one period."""

    since: datetime
    until: datetime
    declared: int = 0
    open: int = 0
    resolved: int = 0
    by_severity: dict[str, dict[str, int]] = field(default_factory=dict)
    by_service: dict[str, int] = field(default_factory=dict)
    # measure -> severity (and "all") -> Summary
    times: dict[str, dict[str, Summary]] = field(default_factory=dict)
    longest: list[Longest] = field(default_factory=list)
    meeting_booked_in_time: Share = Share(0, 0)
    completed_on_time: Share = Share(0, 0)


def _seconds(start: datetime, end: datetime | None, until: datetime) -> float | None:
    if end is None or end >= until:
        return None
    return max((end - start).total_seconds(), 0.0)


def durations(item: IncidentFacts, until: datetime) -> dict[str, float | None]:
    """Return the incident's time to acknowledge, mitigate and resolve as of `until`."""
    return {
        "acknowledge": _seconds(item.started_at, item.acknowledged_at, until),
        "mitigate": _seconds(item.declared_at, item.monitoring_at, until),
        "resolve": _seconds(item.declared_at, item.resolved_at, until),
    }


def period_stats(
    items: list[IncidentFacts],
    since: datetime,
    until: datetime,
    *,
    severities: list[str],
    booking_window: timedelta,
    completion_window: timedelta,
) -> PeriodStats:
    """Compute one period's figures from the incidents declared in [since, until)."""
    stats = PeriodStats(since, until)
    chosen = [i for i in items if since <= i.declared_at < until]
    known = list(severities) + sorted({i.severity for i in chosen} - set(severities))
    stats.by_severity = {s: {"declared": 0, "open": 0, "resolved": 0} for s in known}
    services: Counter[str] = Counter()
    values: dict[str, dict[str, list[float]]] = {m: {} for m in MEASURES}
    lengths: list[tuple[float, IncidentFacts, bool]] = []
    booked, booked_due, on_time, on_time_due = 0, 0, 0, 0
    for item in chosen:
        resolved = item.resolved_at is not None and item.resolved_at < until
        cell = stats.by_severity[item.severity]
        cell["declared"] += 1
        cell["resolved" if resolved else "open"] += 1
        services.update(item.services or (NOT_LINKED,))
        for measure, seconds in durations(item, until).items():
            if seconds is not None:
                for key in (item.severity, "all"):
                    values[measure].setdefault(key, []).append(seconds)
        end = item.resolved_at if resolved and item.resolved_at else until
        lengths.append(((end - item.declared_at).total_seconds(), item, not resolved))
        if resolved and item.resolved_at is not None:
            pm = item.postmortem
            booked_at = pm.meeting_booked_at if pm else None
            booked_at = booked_at if booked_at and booked_at < until else None
            if booked_at is not None or item.resolved_at + booking_window <= until:
                booked_due += 1
                booked += booked_at is not None and booked_at <= item.resolved_at + booking_window
            done_at = pm.completed_at if pm else None
            done_at = done_at if done_at and done_at < until else None
            if done_at is not None or item.resolved_at + completion_window <= until:
                on_time_due += 1
                on_time += done_at is not None and done_at <= item.resolved_at + completion_window
    stats.declared = len(chosen)
    stats.resolved = sum(c["resolved"] for c in stats.by_severity.values())
    stats.open = stats.declared - stats.resolved
    stats.by_service = dict(sorted(services.items(), key=lambda kv: (-kv[1], kv[0])))
    stats.times = {
        m: {key: Summary.of(values[m].get(key, [])) for key in [*known, "all"]} for m in MEASURES
    }
    lengths.sort(key=lambda entry: (-entry[0], entry[1].number))
    stats.longest = [
        Longest(i.number, None if i.private else i.title, i.severity, seconds, still_open)
        for seconds, i, still_open in lengths[:LONGEST]
    ]
    stats.meeting_booked_in_time = Share(booked, booked_due)
    stats.completed_on_time = Share(on_time, on_time_due)
    return stats


@dataclass(frozen=True)
class WeekBucket:
    """One week of the chart: incidents by severity and the median time to resolve."""

    start: datetime
    by_severity: dict[str, int]
    median_resolve_hours: float | None


def week_start(at: datetime, tz: ZoneInfo) -> datetime:
    """Return the Monday 00:00 (in tz) of the week holding `at`."""
    local = at.astimezone(tz)
    monday = (local - timedelta(days=local.weekday())).date()
    return datetime.combine(monday, time(0), tzinfo=tz)


def weekly(
    items: list[IncidentFacts],
    since: datetime,
    until: datetime,
    *,
    severities: list[str],
    tz: ZoneInfo,
) -> list[WeekBucket]:
    """Count incidents declared in [since, until) per calendar week (Monday start, in tz)."""
    chosen = [i for i in items if since <= i.declared_at < until]
    extra = sorted({i.severity for i in chosen} - set(severities))
    starts = [week_start(since, tz)]
    while starts[-1] < until:
        starts.append(week_start(starts[-1] + timedelta(days=8), tz))  # next Monday, DST-safe
    starts.pop()
    # Compare in UTC: aware datetimes of different zones compare slowly.
    edges = [start.astimezone(UTC) for start in starts]
    counts = [dict.fromkeys([*severities, *extra], 0) for _ in starts]
    hours: list[list[float]] = [[] for _ in starts]
    for item in chosen:
        week = bisect_right(edges, item.declared_at) - 1
        counts[week][item.severity] += 1
        if item.resolved_at is not None and item.resolved_at < until:
            hours[week].append((item.resolved_at - item.declared_at).total_seconds() / 3600)
    return [
        WeekBucket(start, by, float(statistics.median(h)) if h else None)
        for start, by, h in zip(starts, counts, hours, strict=True)
    ]


@dataclass
class Review:
    """The whole review: this period, the previous one, the weekly series for the chart."""

    current: PeriodStats
    previous: PeriodStats
    weeks: list[WeekBucket]
    timezone: str
    booking_window: timedelta
    completion_window: timedelta
    # Follow-ups opened/done/overdue, under "current" and "previous" (None: not counted).
    followups: dict[str, dict[str, int]] | None = None


def build_review(
    items: list[IncidentFacts],
    *,
    previous_since: datetime,
    since: datetime,
    until: datetime,
    severities: list[str],
    timezone: str,
    booking_window: timedelta,
    completion_window: timedelta,
) -> Review:
    """Compute the current and previous periods and the weekly series over both."""
    windows = {"booking_window": booking_window, "completion_window": completion_window}
    return Review(
        current=period_stats(items, since, until, severities=severities, **windows),
        previous=period_stats(items, previous_since, since, severities=severities, **windows),
        weeks=weekly(items, previous_since, until, severities=severities, tz=ZoneInfo(timezone)),
        timezone=timezone,
        booking_window=booking_window,
        completion_window=completion_window,
    )
