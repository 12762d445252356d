"""Prometheus metrics with fixed names, so dashboards and alert rules can rely on them.

Counters and histograms are per process (Prometheus sums them across replicas); they live in
one process-wide registry that every `/metrics` endpoint of the process exposes. Gauges that
describe shared state (open incidents) are read from the database at scrape time, so any
replica reports the same, correct figure.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

PROCESS = CollectorRegistry(auto_describe=True)

VENDOR_OUTCOMES = ("ok", "error", "ratelimited", "timeout")

vendor_requests = Counter(
    "sevbot_vendor_requests",
    "Calls to Slack, PagerDuty and Notion, by outcome (ok, error, ratelimited, timeout)",
    ["vendor", "method", "outcome"],
    registry=PROCESS,
)
vendor_seconds = Histogram(
    "sevbot_vendor_request_seconds",
    "Duration of calls to Slack, PagerDuty and Notion, retries included",
    ["vendor", "method"],
    registry=PROCESS,
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
nudges_sent = Counter(
    "sevbot_nudges_sent", "Nudges posted in Slack, by kind", ["kind"], registry=PROCESS
)
scheduler_lag = Gauge(
    "sevbot_scheduler_lag_seconds",
    "How late the last background job started after its scheduled time",
    registry=PROCESS,
)
webhook_deliveries = Counter(
    "sevbot_webhook_deliveries",
    "Webhook deliveries received, by source and outcome (accepted, duplicate, rejected, invalid)",
    ["source", "outcome"],
    registry=PROCESS,
)
ack_seconds = Histogram(
    "sevbot_ack_seconds",
    "Time from receiving a Slack request to acknowledging it, by kind",
    ["kind"],
    registry=PROCESS,
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 1.5, 2, 2.5, 3, 5),
)


class DatabaseGauges(Collector):
    """Gauges read from the database at scrape time: the same answer from any replica."""

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self.session_factory = session_factory

    def describe(self) -> list[GaugeMetricFamily]:
        """Name the gauges without touching the database (called at registration)."""
        return [
            GaugeMetricFamily("sevbot_open_incidents", "Open incidents, by severity"),
            GaugeMetricFamily("sevbot_outbox_pending", "Side effects recorded and not yet sent"),
            GaugeMetricFamily(
                "sevbot_outbox_oldest_seconds", "Age of the oldest unsent side effect"
            ),
        ]

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Count open incidents per severity, and the outbox's backlog."""
        from bot.db import utcnow
        from bot.incidents.models import Incident
        from bot.outbox.service import backlog

        family = GaugeMetricFamily(
            "sevbot_open_incidents", "Open incidents, by severity", labels=["severity"]
        )
        with self.session_factory() as session:
            rows = session.execute(
                select(Incident.severity, func.count())
                .where(Incident.status != "resolved")
                .group_by(Incident.severity)
            ).all()
            pending, oldest = backlog(session=session)
        for severity, count in rows:
            family.add_metric([str(severity)], float(count))
        yield family
        yield GaugeMetricFamily(
            "sevbot_outbox_pending", "Side effects recorded and not yet sent", value=pending
        )
        age = (utcnow() - oldest).total_seconds() if oldest is not None else 0.0
        yield GaugeMetricFamily(
            "sevbot_outbox_oldest_seconds", "Age of the oldest unsent side effect", value=age
        )


def build_registry(session_factory: sessionmaker[Session]) -> CollectorRegistry:
    """Return a registry exposing this process's counters and the database gauges."""
    registry = CollectorRegistry(auto_describe=True)
    for collector in (
        vendor_requests,
        vendor_seconds,
        nudges_sent,
        scheduler_lag,
        webhook_deliveries,
        ack_seconds,
    ):
        registry.register(collector)
    registry.register(DatabaseGauges(session_factory))
    return registry
