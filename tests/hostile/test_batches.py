"""One bad row never costs the good ones; an event counts as processed only once handled."""

from __future__ import annotations

from sqlalchemy import select

from bot.db import session_scope, utcnow
from bot.incidents.models import ChannelMessage, ProcessedDelivery
from tests.harness import Harness, wait_until


def _recorded(h: Harness, incident_id: int) -> list[tuple[str, str]]:
    with session_scope(h.deps.session_factory) as session:
        rows = session.scalars(
            select(ChannelMessage).where(ChannelMessage.incident_id == incident_id)
        )
        return sorted((row.ts, row.user_id) for row in rows)


def test_a_row_the_database_refuses_does_not_cost_the_rest_of_its_batch(
    harness: Harness,
) -> None:
    h = harness
    inc = h.declare()
    writer = h.deps.incidents.activity
    now = utcnow()
    good = [(f"1790000000.00010{n}", h.bob) for n in range(3)]
    writer.record(inc["id"], good[0][0], good[0][1], now)
    writer.record(inc["id"], "1790000000.000200", "U\ud800BAD", now)  # no database stores it
    for ts, user in good[1:]:
        writer.record(inc["id"], ts, user, now)
    writer.flush()
    assert _recorded(h, inc["id"]) == good
    writer.record(inc["id"], "1790000000.000300", h.carol, now)  # the writer still works
    writer.flush()
    assert ("1790000000.000300", h.carol) in _recorded(h, inc["id"])


def test_a_failed_event_handler_leaves_the_event_for_slacks_redelivery(harness: Harness) -> None:
    h = harness
    home = {"type": "app_home_opened", "user": h.bob, "tab": "home"}
    h.slack.fail_method("views.publish", "internal_error", times=1)
    h.dispatch(h.signer.event(home, event_id="Ev0FAILS"))
    h.settle()
    assert h.slack.home_view(h.bob) is None
    with session_scope(h.deps.session_factory) as session:
        assert session.get(ProcessedDelivery, "slack:Ev0FAILS") is None
    h.dispatch(h.signer.event(home, event_id="Ev0FAILS", retry_num=1))
    h.settle()
    wait_until(lambda: h.slack.home_view(h.bob), message="App Home published on redelivery")
    h.dispatch(h.signer.event(home, event_id="Ev0FAILS", retry_num=2))
    h.settle()
    with session_scope(h.deps.session_factory) as session:
        assert session.get(ProcessedDelivery, "slack:Ev0FAILS") is not None
