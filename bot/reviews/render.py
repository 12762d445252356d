"""Render the incident review as Slack mrkdwn or plain text, JSON, or CSV, with definitions."""

from __future__ import annotations

import csv
import io
from typing import Any

from bot.incidents.domain import incident_label
from bot.reviews.metrics import MEASURES, PeriodStats, Review, Share, Summary
from bot.text import format_duration, neutralise_external

FOLLOWUPS_NOT_TRACKED = "not counted"


def definitions(review: Review) -> dict[str, str]:
    """Return each measure's definition, as printed in the footer and the docs."""
    booking = format_duration(review.booking_window.total_seconds())
    completion = format_duration(review.completion_window.total_seconds())
    return {
        "period": "Incidents declared in the period, open or resolved, drills excluded; each "
        "period is measured as of its end, and compared with the period just before it.",
        "severity": "The incident's severity now (its last severity).",
        "time to acknowledge": "From the first PagerDuty trigger when a PagerDuty incident is "
        "linked (otherwise from declare) to the first PagerDuty acknowledgement or the "
        "commander's first message or update in the channel, whichever comes first; zero when "
        "someone was on it before the page.",
        "time to mitigate": "From declare to the first change of status to monitoring "
        "(incidents that never were monitoring are not counted).",
        "time to resolve": "From declare to resolve.",
        "median / p90": "The middle value, and the 90th percentile by nearest rank; n is how "
        "many incidents the figure is based on.",
        "longest": "Declare to resolve, or to the end of the period while still open.",
        "meeting booked in time": f"A postmortem meeting was recorded (in Slack or Notion) "
        f"within {booking} of resolve; incidents resolved less than {booking} before the "
        "period's end count only once booked.",
        "completed on time": f"The postmortem was completed within {completion} of resolve "
        "(when the digest calls it overdue); likewise counted once due or done.",
        "follow-ups": "Of non-drill incidents: opened = added in the period, done = marked done "
        "in the period, overdue = open at the period's end with a due date before that day "
        "(UTC).",
    }


def _duration(seconds: float | None) -> str:
    return "–" if seconds is None else format_duration(seconds)


def _summary(s: Summary) -> str:
    if not s.count:
        return "n=0"
    return f"{_duration(s.median)} / {_duration(s.p90)} (n={s.count})"


def _share(share: Share) -> str:
    if share.ratio is None:
        return "none due"
    return f"{share.ratio:.0%} ({share.met}/{share.due})"


def _trend(now: int, before: int) -> str:
    delta = now - before
    return f"{now} ({'+' if delta >= 0 else ''}{delta} vs {before})"


def _title(number: int, title: str | None, esc: Any) -> str:
    return f"{incident_label(number)} " + (esc(title) if title is not None else "(private)")


def render_text(review: Review, *, for_slack: bool = True) -> str:
    """Render the review as Slack mrkdwn (user text escaped) or plain text for a terminal."""
    cur, prev = review.current, review.previous
    esc = neutralise_external if for_slack else str
    bold = (lambda s: f"*{s}*") if for_slack else str
    lines = [
        bold(f"Incident review {cur.since:%Y-%m-%d} → {cur.until:%Y-%m-%d}")
        + f" (UTC dates; previous period {prev.since:%Y-%m-%d} → {prev.until:%Y-%m-%d})",
        f"Incidents declared: {_trend(cur.declared, prev.declared)} · "
        f"open {cur.open} · resolved {cur.resolved}",
        "",
        bold("By severity") + " (declared, prev; open/resolved):",
    ]
    for sev, cell in cur.by_severity.items():
        before = prev.by_severity.get(sev, {}).get("declared", 0)
        if not cell["declared"] and not before:
            continue
        lines.append(
            f"• {esc(sev)}: {_trend(cell['declared'], before)}; "
            f"{cell['open']} open / {cell['resolved']} resolved"
        )
    lines += ["", bold("By PagerDuty service") + " (declared, prev):"]
    for service, count in cur.by_service.items():
        lines.append(f"• {esc(service)}: {_trend(count, prev.by_service.get(service, 0))}")
    if not cur.by_service:
        lines.append("• no incidents")
    lines += ["", bold("Times") + " (median / p90; previous period in brackets):"]
    for measure in MEASURES:
        parts = []
        for key, summary in cur.times[measure].items():
            was = prev.times.get(measure, {}).get(key, Summary(0, None, None))
            if summary.count or was.count:
                parts.append(f"{esc(key)} {_summary(summary)} [{_summary(was)}]")
        lines.append(f"• to {measure}: " + ("; ".join(parts) or "no data"))
    lines += ["", bold("Longest incidents") + ":"]
    for item in cur.longest:
        state = " (still open)" if item.open else ""
        lines.append(
            f"• {_title(item.number, item.title, esc)} · {esc(item.severity)} · "
            f"{format_duration(item.seconds)}{state}"
        )
    if not cur.longest:
        lines.append("• none")
    lines += [
        "",
        bold("Postmortems") + ": meeting booked in time "
        f"{_share(cur.meeting_booked_in_time)} [{_share(prev.meeting_booked_in_time)}] · "
        f"completed on time {_share(cur.completed_on_time)} [{_share(prev.completed_on_time)}]",
        bold("Follow-ups") + ": " + _followups(review),
        "",
        bold("Definitions"),
    ]
    lines += [f"• {name}: {text}" for name, text in definitions(review).items()]
    return "\n".join(lines)


def _followups(review: Review) -> str:
    if review.followups is None:
        return FOLLOWUPS_NOT_TRACKED
    cur, prev = review.followups["current"], review.followups["previous"]
    return " · ".join(f"{k} {_trend(cur[k], prev[k])}" for k in ("opened", "done", "overdue"))


def _summary_json(s: Summary) -> dict[str, Any]:
    return {"n": s.count, "median_seconds": s.median, "p90_seconds": s.p90}


def _period_json(stats: PeriodStats) -> dict[str, Any]:
    return {
        "since": stats.since.isoformat(),
        "until": stats.until.isoformat(),
        "declared": stats.declared,
        "open": stats.open,
        "resolved": stats.resolved,
        "by_severity": stats.by_severity,
        "by_pagerduty_service": stats.by_service,
        "times": {
            f"to_{m}": {k: _summary_json(s) for k, s in by.items()} for m, by in stats.times.items()
        },
        "longest": [
            {
                "number": i.number,
                "title": i.title,
                "severity": i.severity,
                "seconds": i.seconds,
                "open": i.open,
            }
            for i in stats.longest
        ],
        "postmortems": {
            "meeting_booked_in_time": vars(stats.meeting_booked_in_time),
            "completed_on_time": vars(stats.completed_on_time),
        },
    }


def render_json(review: Review) -> dict[str, Any]:
    """Return the review as JSON-ready data, with both periods and the definitions."""
    return {
        "timezone": review.timezone,
        "current": _period_json(review.current),
        "previous": _period_json(review.previous),
        "weeks": [
            {
                "week_of": w.start.date().isoformat(),
                "by_severity": w.by_severity,
                "median_resolve_hours": w.median_resolve_hours,
            }
            for w in review.weeks
        ],
        "followups": review.followups,
        "definitions": definitions(review),
    }


def _csv_rows(period: str, stats: PeriodStats) -> list[list[Any]]:
    rows: list[list[Any]] = [[period, "incidents", "all", "declared", stats.declared]]
    rows += [[period, "incidents", "all", "open", stats.open]]
    rows += [[period, "incidents", "all", "resolved", stats.resolved]]
    for sev, cell in stats.by_severity.items():
        rows += [[period, "severity", sev, key, value] for key, value in cell.items()]
    rows += [[period, "pagerduty_service", s, "declared", n] for s, n in stats.by_service.items()]
    for measure, by in stats.times.items():
        for key, s in by.items():
            rows.append([period, f"time_to_{measure}", key, "n", s.count])
            rows.append([period, f"time_to_{measure}", key, "median_seconds", s.median])
            rows.append([period, f"time_to_{measure}", key, "p90_seconds", s.p90])
    for name in ("meeting_booked_in_time", "completed_on_time"):
        share: Share = getattr(stats, name)
        rows += [[period, "postmortems", name, "met", share.met]]
        rows += [[period, "postmortems", name, "due", share.due]]
    return rows


def render_csv(review: Review) -> str:
    """Return the review as long-format CSV: period, section, group, measure, value."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["period", "section", "group", "measure", "value"])
    writer.writerows(_csv_rows("current", review.current))
    writer.writerows(_csv_rows("previous", review.previous))
    for period, counts in (review.followups or {}).items():
        writer.writerows([period, "followups", "all", k, v] for k, v in counts.items())
    for name, text in definitions(review).items():
        writer.writerow(["", "definition", name, "", text])
    return out.getvalue()
