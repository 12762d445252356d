"""Drills and the scheduled review post, through the real Bolt app and the fake Slack."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from bot.db import session_scope, utcnow
from bot.deps import build_deps
from bot.fakes.slack import FakeSlack
from bot.features import install_features
from bot.incidents.models import Incident
from bot.reviews import jobs
from bot.reviews.models import IncidentReviewRun
from bot.settings import ConfigError
from tests.harness import Harness, make_settings, start_harness, wait_until


@pytest.fixture
def review_harness(fake_slack: FakeSlack, clean_engine: Engine):
    running = start_harness(
        fake_slack,
        clean_engine,
        incident_review_channel="incident-review",
        incident_review_cron="*/5 * * * *",
    )
    yield running
    running.bot.close()


def _drill_flags(h: Harness) -> list[tuple[int, bool]]:
    with session_scope(h.deps.session_factory) as session:
        return [
            (i.number, i.is_drill) for i in session.scalars(select(Incident).order_by(Incident.id))
        ]


def test_declare_drill_marks_the_incident(harness: Harness) -> None:
    h = harness
    response = h.command("declare drill sev2 Game day: failover")
    assert "Declaring INC-1 (SEV-2, a drill)" in json.loads(response.body)["text"]
    h.declare("declare sev3 Drill sergeant app is down")  # "Drill" in a title is just a word
    assert _drill_flags(h) == [(1, True), (2, False)]
    with session_scope(h.deps.session_factory) as session:
        first = session.scalars(select(Incident).order_by(Incident.id)).first()
        assert first is not None and first.severity == "SEV-2"
        assert first.title == "Game day: failover"


def test_declare_drill_without_title_says_how(harness: Harness) -> None:
    h = harness
    response = h.command("declare drill")
    assert "Give the drill a title" in json.loads(response.body)["text"]
    assert _drill_flags(h) == []


def _review_posts(h: Harness) -> list[dict]:
    return [m for m in h.slack.messages("incident-review") if m.get("files")]


def test_scheduled_review_posts_once_across_replicas_with_the_chart(
    review_harness: Harness, clean_engine: Engine
) -> None:
    h = review_harness
    h.slack.add_channel("incident-review", members=[h.alice])
    inc = h.declare("declare sev1 Checkout is down")
    h.declare("declare drill sev2 Game day")
    h.command("status monitoring", channel=inc["channel"])
    h.command("resolve Fixed", channel=inc["channel"])
    h.settle()
    names = [job.name for job in h.deps.jobs]
    assert "incident_review" in names and "incident_review_retry" in names
    # A second replica: its own deps over the same database.
    other = install_features(
        build_deps(make_settings(h.slack, clean_engine, **_review_settings()), engine=clean_engine)
    )
    ahead = utcnow() + timedelta(minutes=6)  # after the next */5 firing, early in its slot
    now = ahead.replace(minute=ahead.minute - ahead.minute % 5, second=10, microsecond=0)
    posted = jobs.on_schedule(h.deps, now=now)
    assert jobs.on_schedule(other, now=now + timedelta(seconds=30)) == []
    assert jobs.deliver_pending(other, now=now + timedelta(hours=1)) == []
    assert len(posted) == 1
    [message] = _review_posts(h)
    assert "Incidents declared: 1 (+1 vs 0)" in message["text"]  # the drill is left out
    assert "SEV-1: 1 (+1 vs 0); 0 open / 1 resolved" in message["text"]
    assert "*Definitions*" in message["text"]
    [shared] = message["files"]
    content = h.slack.files[shared["id"]]["content"]
    assert content.startswith(b"\x89PNG\r\n\x1a\n") and len(content) > 5000
    assert h.slack.calls_to("files.getUploadURLExternal")
    [complete] = h.slack.calls_to("files.completeUploadExternal")
    assert complete["channel_id"] == h.slack.channel("incident-review")["id"]


def _review_settings() -> dict[str, str]:
    return {"incident_review_channel": "incident-review", "incident_review_cron": "*/5 * * * *"}


def test_a_failed_post_is_kept_and_retried(review_harness: Harness) -> None:
    h = review_harness
    now = datetime(2026, 11, 2, 10, 0, 30, tzinfo=UTC)
    assert jobs.on_schedule(h.deps, now=now) == []  # no #incident-review yet
    with session_scope(h.deps.session_factory) as session:
        [run] = session.scalars(select(IncidentReviewRun)).all()
        assert run.run_key == "incident-review:2026-11-02T10:00" and run.posted_at is None
        assert "incident-review" in (run.last_error or "")
    h.slack.add_channel("incident-review", members=[h.alice])
    assert jobs.deliver_pending(h.deps, now=now + timedelta(minutes=5)) == []  # backing off
    assert jobs.deliver_pending(h.deps, now=now + timedelta(minutes=11)) == [run.run_key]
    assert jobs.deliver_pending(h.deps, now=now + timedelta(hours=2)) == []
    wait_until(lambda: len(_review_posts(h)) == 1)
    assert "Incident review 2026-10-03 → 2026-11-02" in _review_posts(h)[0]["text"]


def test_an_upload_whose_process_died_is_not_repeated(review_harness: Harness) -> None:
    """Slack took the chart, then the process died before recording it: the retry finds it."""
    from bot.reviews import service

    h = review_harness
    h.slack.add_channel("incident-review", members=[h.alice])
    now = datetime(2026, 11, 2, 10, 0, 30, tzinfo=UTC)
    key, due = "incident-review:2026-11-02T10:00", now.replace(second=0)
    with session_scope(h.deps.session_factory) as session:  # what the killed process did...
        service.record_run(key, due, session=session)
        assert service.claim_run(key, session=session, now=now, lease_until=now + jobs.LEASE)
    review = jobs.generate(
        session_factory=h.deps.session_factory, settings=h.deps.settings, until=due
    )
    jobs.post_review(review, chat=h.deps.chat, channel="incident-review")  # ...before it died
    assert jobs.deliver_pending(h.deps, now=now + timedelta(minutes=5)) == []  # still leased
    assert jobs.deliver_pending(h.deps, now=now + jobs.LEASE + timedelta(minutes=1)) == [key]
    assert len(_review_posts(h)) == 1
    assert len(h.slack.calls_to("files.completeUploadExternal")) == 1
    with session_scope(h.deps.session_factory) as session:
        run = session.get(IncidentReviewRun, key)
        assert run is not None and run.posted_at is not None and run.attempts == 2


def test_default_schedule_is_the_first_monday_at_ten(review_harness: Harness) -> None:
    settings = make_settings(review_harness.slack, review_harness.deps.engine)
    trigger = jobs.review_trigger(settings.model_copy(update={"default_timezone": "Asia/Seoul"}))
    fire = trigger.get_next_fire_time(None, datetime(2026, 11, 29, tzinfo=UTC))
    assert fire is not None and fire.isoformat() == "2026-12-07T10:00:00+09:00"
    after = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
    assert after is not None and after.isoformat() == "2027-01-04T10:00:00+09:00"


def test_a_bad_cron_names_the_setting(review_harness: Harness) -> None:
    settings = make_settings(review_harness.slack, review_harness.deps.engine)
    bad = settings.model_copy(update={"incident_review_cron": "every monday"})
    with pytest.raises(ConfigError, match="INCIDENT_REVIEW_CRON 'every monday'"):
        jobs.review_trigger(bad)
