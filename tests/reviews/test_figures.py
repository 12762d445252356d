"""The review's figures against a hand-computed fixture, on SQLite and PostgreSQL.

Every expected number below was worked out by hand from the seeded rows (see each comment).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from bot.followups.models import FollowUp
from bot.incidents.models import ChannelMessage, Incident, TimelineEntry
from bot.pagerduty.models import PagerDutyLink
from bot.postmortems.models import Postmortem
from bot.reviews import data
from bot.reviews.jobs import generate
from bot.reviews.metrics import Summary
from bot.reviews.render import render_csv, render_json, render_text
from bot.settings import Settings

UNTIL = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)  # current period: 10-03 10:00 -> 11-02 10:00
ALICE, BOB = "UALICE", "UBOB"


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def _incident(session: Session, number: int, severity: str, declared: datetime, **kw) -> int:
    row = Incident(
        number=number,
        title=kw.pop("title", f"Incident {number}"),
        severity=severity,
        status="resolved" if kw.get("resolved_at") else "investigating",
        reporter_id=ALICE,
        commander_id=ALICE,
        declared_at=declared,
        request_key=f"seed:{number}",
        **kw,
    )
    session.add(row)
    session.flush()
    return row.id


def _entry(session: Session, incident_id: int, kind: str, when: datetime, **kw) -> None:
    session.add(TimelineEntry(incident_id=incident_id, kind=kind, occurred_at=when, **kw))


def _message(session: Session, incident_id: int, user: str, when: datetime) -> None:
    ts = f"{when.timestamp():.6f}"
    session.add(ChannelMessage(incident_id=incident_id, ts=ts, user_id=user, posted_at=when))


def _link(session: Session, incident_id: int, pd_id: str, service: str) -> None:
    session.add(PagerDutyLink(incident_id=incident_id, pd_incident_id=pd_id, service_name=service))


def _postmortem(session: Session, incident_id: int, booked: datetime | None, done: datetime | None):
    session.add(
        Postmortem(
            incident_id=incident_id,
            meeting_booked_at=booked,
            meeting_at=booked and booked + timedelta(days=3),
            completed_at=done,
            status="Complete" if done else "Draft",
        )
    )


def _followup(session, n, incident_id, created, due, status, closed) -> None:
    session.add(
        FollowUp(
            incident_id=incident_id,
            text=f"Follow-up {n}",
            owner_id=ALICE,
            due_on=date.fromisoformat(due) if due else None,
            status=status,
            created_by=ALICE,
            created_at=created,
            closed_at=closed,
            closed_by=ALICE if closed else None,
            request_key=f"seed:fu:{n}",
        )
    )


def seed(session: Session) -> None:
    """Seed the fixture: five counted incidents now, two before, one drill."""
    # I1 SEV-1, PagerDuty-linked: trigger 11:50, ack 11:55 -> TTA 5m; monitoring 12:30 -> TTM
    # 30m; resolved 13:00 -> TTR 1h. Booked after 7h, completed after 2d: both in time.
    i1 = _incident(session, 1, "SEV-1", at(10, 5, 12), resolved_at=at(10, 5, 13))
    _link(session, i1, "PD1", "checkout")
    _entry(session, i1, "pagerduty_trigger", at(10, 5, 11, 50))
    _entry(session, i1, "pagerduty_acknowledge", at(10, 5, 11, 55))
    _message(session, i1, ALICE, at(10, 5, 12, 1))
    _entry(
        session, i1, "status", at(10, 5, 12, 30), data={"from": "identified", "to": "monitoring"}
    )
    _entry(
        session, i1, "status", at(10, 5, 12, 40), data={"from": "monitoring", "to": "identified"}
    )
    _entry(
        session, i1, "status", at(10, 5, 12, 45), data={"from": "identified", "to": "monitoring"}
    )
    _postmortem(session, i1, at(10, 5, 20), at(10, 7, 13))
    # I2 SEV-1, not linked: commander's first message after 10m -> TTA 10m; never monitoring;
    # resolved after 3h. Booked after 45h (late); completed after 10 days (late).
    i2 = _incident(session, 2, "SEV-1", at(10, 10, 9), resolved_at=at(10, 10, 12))
    _message(session, i2, BOB, at(10, 10, 9, 5))  # not the commander
    _message(session, i2, ALICE, at(10, 10, 9, 10))
    _postmortem(session, i2, at(10, 12, 9), at(10, 20, 12))
    # I3 SEV-2, linked without a trigger entry: from declare; commander update at 10m beats the
    # PagerDuty ack at 20m -> TTA 10m; monitoring 1h; resolved after 1 day. No postmortem row:
    # booking and completion are due and missed.
    i3 = _incident(session, 3, "SEV-2", at(10, 15, 0), resolved_at=at(10, 16, 0))
    _link(session, i3, "PD3", "search")
    _entry(session, i3, "update", at(10, 15, 0, 10), actor_id=ALICE, text="Looking")
    _entry(session, i3, "update", at(10, 15, 0, 5), actor_id=BOB, text="Not the commander")
    _entry(session, i3, "pagerduty_acknowledged", at(10, 15, 0, 20))
    _entry(session, i3, "status", at(10, 15, 1), data={"from": "investigating", "to": "monitoring"})
    # I4 SEV-2, still open, linked to two services: commander spoke after 30m -> TTA 30m.
    # Longest: 25h to the end of the period.
    i4 = _incident(session, 4, "SEV-2", at(11, 1, 9), title="Queue <!channel> backlog")
    _link(session, i4, "PD4a", "search")
    _link(session, i4, "PD4b", "checkout")
    _message(session, i4, BOB, at(11, 1, 9, 5))
    _message(session, i4, ALICE, at(11, 1, 9, 30))
    # A drill: left out entirely.
    drill = _incident(session, 5, "SEV-3", at(10, 20, 9), resolved_at=at(10, 20, 10), is_drill=True)
    _message(session, drill, ALICE, at(10, 20, 9, 1))
    # I6 SEV-2 declared 2h before the end, resolved after it: open as of the period's end, and
    # its monitoring after the end does not count. Nobody spoke: no TTA.
    i6 = _incident(session, 6, "SEV-2", at(11, 2, 8), resolved_at=at(11, 2, 11))
    _entry(session, i6, "status", at(11, 2, 10, 30), data={"to": "monitoring"})
    # Previous period (09-03 10:00 -> 10-03 10:00): P7 SEV-1 resolved after 4h, commander at
    # 20m, booked and completed in time; P8 SEV-3 resolved only after that period ended.
    p7 = _incident(session, 7, "SEV-1", at(9, 10, 10), resolved_at=at(9, 10, 14))
    _message(session, p7, ALICE, at(9, 10, 10, 20))
    _postmortem(session, p7, at(9, 10, 20), at(9, 12, 10))
    _incident(session, 8, "SEV-3", at(10, 3, 9), resolved_at=at(10, 4, 9))
    # Outside both periods.
    _incident(session, 9, "SEV-1", at(8, 1, 9), resolved_at=at(8, 1, 10))
    # Follow-ups. Current: opened F1 F2 F3 F6 (4), done F1 and F5 (2), overdue F2 (1).
    # Previous: opened F5, done none, overdue F5 (due 09-20, still open on 10-03). F4: a drill's.
    _followup(session, 1, i1, at(10, 6, 9), "2026-10-10", "done", at(10, 9, 9))
    _followup(session, 2, i2, at(10, 11, 9), "2026-10-20", "open", None)
    _followup(session, 3, i3, at(10, 16, 9), None, "wont_do", at(10, 17, 9))
    _followup(session, 4, drill, at(10, 20, 11), "2026-10-21", "open", None)
    _followup(session, 5, p7, at(9, 11, 9), "2026-09-20", "done", at(10, 5, 9))
    _followup(session, 6, i4, at(11, 1, 12), "2026-11-05", "open", None)
    session.commit()


@pytest.fixture
def seeded(session_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    with session_factory() as session:
        seed(session)
    return session_factory


def test_figures_match_the_hand_computed_fixture(seeded: sessionmaker[Session]) -> None:
    review = generate(session_factory=seeded, settings=Settings(), until=UNTIL)
    cur, prev = review.current, review.previous
    assert (cur.declared, cur.open, cur.resolved) == (5, 2, 3)
    assert cur.by_severity["SEV-1"] == {"declared": 2, "open": 0, "resolved": 2}
    assert cur.by_severity["SEV-2"] == {"declared": 3, "open": 2, "resolved": 1}
    assert cur.by_severity["SEV-3"] == {"declared": 0, "open": 0, "resolved": 0}
    assert cur.by_service == {"(no PagerDuty link)": 2, "checkout": 2, "search": 2}
    tta = cur.times["acknowledge"]
    assert tta["SEV-1"] == Summary(2, 450.0, 600.0)
    assert tta["SEV-2"] == Summary(2, 1200.0, 1800.0)
    assert tta["all"] == Summary(4, 600.0, 1800.0)
    ttm = cur.times["mitigate"]
    assert ttm["SEV-1"] == Summary(1, 1800.0, 1800.0)
    assert ttm["all"] == Summary(2, 2700.0, 3600.0)
    ttr = cur.times["resolve"]
    assert ttr["SEV-1"] == Summary(2, 7200.0, 10800.0)
    assert ttr["SEV-2"] == Summary(1, 86400.0, 86400.0)
    assert ttr["all"] == Summary(3, 10800.0, 86400.0)
    assert [(x.number, x.seconds, x.open) for x in cur.longest] == [
        (4, 90000.0, True),
        (3, 86400.0, False),
        (2, 10800.0, False),
        (6, 7200.0, True),
        (1, 3600.0, False),
    ]
    assert (cur.meeting_booked_in_time.met, cur.meeting_booked_in_time.due) == (1, 3)
    assert (cur.completed_on_time.met, cur.completed_on_time.due) == (1, 3)
    assert (prev.declared, prev.open, prev.resolved) == (2, 1, 1)
    assert prev.times["acknowledge"]["all"] == Summary(1, 1200.0, 1200.0)
    assert prev.times["resolve"]["SEV-1"] == Summary(1, 14400.0, 14400.0)
    assert (prev.completed_on_time.met, prev.completed_on_time.due) == (1, 1)
    # Weeks (Monday start, UTC) from 31 Aug to the week of 2 Nov: P7 in the week of 7 Sep.
    weeks = {w.start.date().isoformat(): w for w in review.weeks}
    assert weeks["2026-09-07"].by_severity["SEV-1"] == 1
    assert weeks["2026-09-07"].median_resolve_hours == 4.0
    assert weeks["2026-10-26"].by_severity["SEV-2"] == 1  # I4, still open
    assert weeks["2026-10-26"].median_resolve_hours is None
    assert sum(sum(w.by_severity.values()) for w in review.weeks) == 7
    assert review.followups == {
        "current": {"opened": 4, "done": 2, "overdue": 1},
        "previous": {"opened": 1, "done": 0, "overdue": 1},
    }


def test_renderings_carry_the_figures_and_the_definitions(seeded: sessionmaker[Session]) -> None:
    review = generate(session_factory=seeded, settings=Settings(), until=UNTIL)
    text = render_text(review)
    assert "Incidents declared: 5 (+3 vs 2)" in text
    assert "SEV-1 7m / 10m (n=2)" in text
    assert "completed on time 33% (1/3) [100% (1/1)]" in text
    assert "*Follow-ups*: opened 4 (+3 vs 1) · done 2 (+2 vs 0) · overdue 1 (+0 vs 1)" in text
    assert "time to acknowledge: From the first PagerDuty trigger" in text
    assert "<!channel>" not in text  # titles are escaped for Slack
    body = render_json(review)
    assert body["current"]["times"]["to_resolve"]["all"] == {
        "n": 3,
        "median_seconds": 10800.0,
        "p90_seconds": 86400.0,
    }
    assert body["current"]["longest"][0]["title"] == "Queue <!channel> backlog"
    assert "time to mitigate" in body["definitions"]
    csv = render_csv(review).splitlines()
    assert csv[0] == "period,section,group,measure,value"
    assert "current,time_to_acknowledge,SEV-2,median_seconds,1200.0" in csv
    assert "previous,incidents,all,declared,2" in csv
    assert "current,followups,all,overdue,1" in csv


def test_reading_takes_a_bounded_number_of_queries(seeded: sessionmaker[Session]) -> None:
    def count_queries(session: Session) -> int:
        seen: list[str] = []

        def record(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
            seen.append(statement)

        bind = session.connection()
        event.listen(bind, "before_cursor_execute", record)
        try:
            data.load_incidents(session=session, since=UNTIL - timedelta(days=60), until=UNTIL)
        finally:
            event.remove(bind, "before_cursor_execute", record)
        return len(seen)

    with seeded() as session:
        few = count_queries(session)
    with seeded() as session:
        for n in range(100, 160):
            iid = _incident(session, n, "SEV-3", at(10, 20, 9), resolved_at=at(10, 20, 11))
            _message(session, iid, ALICE, at(10, 20, 9, 3))
            _entry(session, iid, "update", at(10, 20, 9, 4), actor_id=ALICE)
        session.commit()
    with seeded() as session:
        many = count_queries(session)
    assert few == many == 2


def test_booking_time_is_the_first_recording_of_a_meeting(db_session: Session) -> None:
    import time_machine

    from bot.postmortems import service as postmortems

    incident_id = _incident(db_session, 1, "SEV-2", at(11, 1, 9), resolved_at=at(11, 1, 10))
    with time_machine.travel(at(11, 1, 15), tick=False):
        first = postmortems.record_meeting(incident_id, at(11, 3, 14), session=db_session)
    with time_machine.travel(at(11, 2, 15), tick=False):
        moved = postmortems.record_meeting(
            incident_id, at(11, 4, 14), session=db_session, source="notion"
        )
    assert first is moved and moved.meeting_booked_at == at(11, 1, 15)
    assert moved.meeting_at == at(11, 4, 14)
