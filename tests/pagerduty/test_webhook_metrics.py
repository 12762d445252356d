"""sevbot_webhook_deliveries_total counts each PagerDuty delivery by outcome."""

from __future__ import annotations

from bot.fakes.pagerduty import sign
from bot.observability import metrics
from bot.pagerduty.feature import WEBHOOK_PATH
from tests.harness import Harness, HttpServer
from tests.pagerduty.conftest import SECRETS, SeededPagerDuty


def _count(outcome: str) -> float:
    labels = {"source": "pagerduty", "outcome": outcome}
    return metrics.PROCESS.get_sample_value("sevbot_webhook_deliveries_total", labels) or 0.0


def test_deliveries_are_counted_by_outcome(pd: Harness, fake_pd: SeededPagerDuty) -> None:
    outcomes = ("accepted", "duplicate", "rejected", "invalid")
    before = {o: _count(o) for o in outcomes}
    inc = fake_pd.state.add_incident(fake_pd.checkout, "Checkout down")
    body, headers = fake_pd.webhook("incident.triggered", inc["id"], SECRETS[:1])
    with HttpServer(pd.bot) as server:
        assert server.post(WEBHOOK_PATH, (body.decode(), headers))[0] == 202
        assert server.post(WEBHOOK_PATH, (body.decode(), headers))[0] == 202  # same X-Webhook-Id
        bad = {**headers, "X-PagerDuty-Signature": "v1=00"}
        assert server.post(WEBHOOK_PATH, (body.decode(), bad))[0] == 401
        junk = b'{"not": "an event"}'
        signed = {**headers, "X-PagerDuty-Signature": sign(junk, SECRETS[:1])}
        assert server.post(WEBHOOK_PATH, (junk.decode(), signed))[0] == 400
    assert {o: _count(o) - before[o] for o in outcomes} == {
        "accepted": 1,
        "duplicate": 1,
        "rejected": 1,
        "invalid": 1,
    }
