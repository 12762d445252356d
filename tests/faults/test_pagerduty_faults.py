"""PagerDuty failing: 429 with Retry-After and 5xx, before and after it did the work."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.db import session_scope
from bot.fakes.pagerduty import FakePagerDuty
from bot.pagerduty.models import PagerDutyLink
from tests.harness import Harness, wait_until
from tests.pagerduty.conftest import SeededPagerDuty


def _posts(fake: FakePagerDuty) -> list[Any]:
    return [c for c in fake.calls("/incidents") if c.method == "POST" and c.path == "/incidents"]


def _paged_once(h: Harness, fake: FakePagerDuty, channel: str, incident_id: int) -> None:
    """One PagerDuty incident for the SEV, one link row, one "Paged" message."""
    wait_until(
        lambda: any("Paged *checkout*" in m["text"] for m in h.slack.messages(channel)),
        timeout=30,
        message="paged",
    )
    h.settle(timeout=30)
    created = [i for i in fake.state.incidents.values() if "INC-1" in i["title"]]
    assert len(created) == 1, created
    with session_scope(h.deps.session_factory) as session:
        links = session.scalar(
            select(func.count())
            .select_from(PagerDutyLink)
            .where(PagerDutyLink.incident_id == incident_id)
        )
    assert links == 1
    paged = [m for m in h.slack.messages(channel) if "Paged *checkout*" in m["text"]]
    assert len(paged) == 1


def test_a_429_on_paging_is_waited_out_and_pages_once(
    pd: Harness,
    fake_pd: SeededPagerDuty,
) -> None:
    sev = pd.declare()
    fake_pd.rate_limit("/incidents", retry_after=1, times=2)
    started = time.monotonic()
    pd.command("page checkout", channel=sev["channel"])
    _paged_once(pd, fake_pd, sev["channel"], sev["id"])
    assert time.monotonic() - started >= 1.0  # Retry-After honoured
    assert len(_posts(fake_pd)) >= 2


@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_on_paging_before_and_after_the_work_pages_once(
    pd: Harness,
    fake_pd: SeededPagerDuty,
    status: int,
) -> None:
    sev = pd.declare()
    fake_pd.inject(
        lambda r: r.method == "POST" and r.path == "/incidents",
        lambda r: fake_pd.error_response(status),
    )  # PagerDuty failed before creating anything...
    fake_pd.lose_answer("/incidents", method="POST", status=status)  # ...then after creating it
    pd.command("page checkout", channel=sev["channel"])
    _paged_once(pd, fake_pd, sev["channel"], sev["id"])
    assert len(_posts(fake_pd)) == 3


def test_429_and_5xx_on_reads_still_link_once(
    pd: Harness,
    fake_pd: SeededPagerDuty,
) -> None:
    sev = pd.declare()
    inc = fake_pd.state.add_incident(fake_pd.checkout, "Checkout down")
    fake_pd.rate_limit(f"/incidents/{inc['id']}", retry_after=1)
    fake_pd.fail(f"/incidents/{inc['id']}/alerts", status=503, times=2)
    fake_pd.fail(f"/incidents/{inc['id']}/log_entries", status=500)
    pd.command(f"link {inc['id']}", channel=sev["channel"])

    def linked() -> int:
        with session_scope(pd.deps.session_factory) as session:
            return int(session.scalar(select(func.count()).select_from(PagerDutyLink)) or 0)

    wait_until(linked, timeout=30, message="linked")
    pd.settle(timeout=30)
    assert linked() == 1
