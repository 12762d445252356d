"""The review chart: weekly incidents by severity and the time-to-resolve trend, as a PNG."""

from __future__ import annotations

import io
from datetime import datetime

from bot.reviews.metrics import WeekBucket


def render_chart(
    weeks: list[WeekBucket], *, title: str, period_start: datetime | None = None
) -> bytes:
    """Draw stacked weekly bars by severity over the median time to resolve; return PNG bytes.

    With period_start, a dashed line separates the previous period's weeks from this one's.
    """
    import matplotlib

    matplotlib.use("Agg")  # no display: a server process
    from matplotlib.figure import Figure

    labels = [f"{w.start:%d %b}" for w in weeks]
    severities = list(weeks[0].by_severity) if weeks else []
    figure = Figure(figsize=(9, 6), dpi=100)
    bars, trend = figure.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    bottom = [0] * len(weeks)
    positions = list(range(len(weeks)))
    for severity in severities:
        counts = [w.by_severity.get(severity, 0) for w in weeks]
        bars.bar(positions, counts, bottom=bottom, label=severity)
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    bars.set_ylabel("incidents declared")
    bars.set_title(title)
    if severities:
        bars.legend(loc="upper left", fontsize="small", ncols=min(len(severities), 5))
    bars.yaxis.get_major_locator().set_params(integer=True)
    hours = [w.median_resolve_hours for w in weeks]
    points = [(x, h) for x, h in zip(positions, hours, strict=True) if h is not None]
    if points:
        trend.plot([x for x, _ in points], [h for _, h in points], marker="o")
    trend.set_ylabel("median hours to resolve")
    if period_start is not None:
        # The line goes before the week holding the period's start.
        holding = [x for x, w in enumerate(weeks) if w.start <= period_start]
        if holding:
            for axes in (bars, trend):
                axes.axvline(holding[-1] - 0.5, color="grey", linestyle="--", linewidth=1)
    trend.set_xticks(positions, labels, rotation=45, ha="right", fontsize="small")
    trend.set_xlabel("week of")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
