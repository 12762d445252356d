"""Slack failing: 429 with Retry-After, 500, 503 and timeouts; declare and update happen once."""

from __future__ import annotations

import json
import time

import pytest

from bot.db import session_scope
from bot.incidents.models import Incident
from tests.faults.checks import assert_each_incident_complete_once, incidents, resume_now
from tests.harness import Harness, wait_until

SETUP_METHODS = [
    "conversations.create",
    "conversations.invite",
    "conversations.setTopic",
    "chat.postMessage",
    "pins.add",
]


def _settled(h: Harness, count: int) -> bool:
    rows = incidents(h)
    return len(rows) == count and all(r.setup_done_at or r.setup_error for r in rows)


def _update_posts(h: Harness, channel: str, text: str) -> list[tuple[str, str | None]]:
    """Return (channel, thread_ts) of each stored message carrying the update text."""
    found = []
    for where in (channel, h.incidents_channel):
        for message in h.slack.messages(where):
            if text in json.dumps([message.get("text"), message.get("blocks")]):
                found.append((where, message.get("thread_ts")))
    return found


def _update_once(h: Harness, channel: str, text: str) -> None:
    assert h.command(f"update {text}", channel=channel).status == 200
    wait_until(lambda: len(_update_posts(h, channel, text)) >= 2, message="update posted")
    h.settle()
    row = next(r for r in incidents(h) if r.channel_id == channel)
    assert sorted(_update_posts(h, channel, text), key=str) == sorted(
        [(channel, None), (h.incidents_channel, row.announcement_ts)], key=str
    )


def test_rate_limited_with_retry_after_declare_and_update_happen_once(harness: Harness) -> None:
    h = harness
    for method in SETUP_METHODS:  # every step of the setup meets a 429 first
        h.slack.rate_limit_method(method, retry_after=1)
    started = time.monotonic()
    inc = h.declare("declare sev2 Checkout is down")
    assert time.monotonic() - started >= 1.0  # Slack's Retry-After was honoured
    assert_each_incident_complete_once(h, 1)
    for method in SETUP_METHODS:
        assert sum(1 for c in h.slack.calls() if c.path.endswith(method)) >= 2
    h.slack.rate_limit_method("chat.postMessage", retry_after=1, times=2)
    _update_once(h, inc["channel"], "Rolled back the deploy")


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_retried_and_declare_and_update_happen_once(
    harness: Harness, status: int
) -> None:
    h = harness
    for method in SETUP_METHODS:  # every step of the setup fails twice first
        h.slack.server_error_method(method, status, times=2)
    inc = h.declare("declare sev2 Checkout is down")
    assert_each_incident_complete_once(h, 1)
    for method in SETUP_METHODS:
        assert sum(1 for c in h.slack.calls() if c.path.endswith(method)) >= 3
    h.slack.server_error_method("chat.postMessage", status, times=2)
    _update_once(h, inc["channel"], "Rolled back the deploy")


def test_a_long_503_outage_is_finished_by_the_resume_job_once(harness: Harness) -> None:
    h = harness
    h.slack.server_error_method("conversations.setTopic", 503, times=4)  # beyond the retries
    h.command("declare sev2 Checkout is down")
    wait_until(lambda: _settled(h, 1), message="setup failed")
    assert incidents(h)[0].setup_error
    h.settle()
    assert resume_now(h) == 1
    assert_each_incident_complete_once(h, 1)


def test_a_channel_create_that_times_out_after_slack_made_it_is_adopted(
    impatient: Harness,
) -> None:
    h = impatient
    h.slack.stall("/api/conversations.create", 2.0)
    h.command("declare sev2 Checkout is down")
    wait_until(lambda: _settled(h, 1), message="setup gave up on the timeout")
    time.sleep(1.2)  # Slack finishes creating the channel the bot stopped waiting for
    h.settle()
    resume_now(h)
    assert_each_incident_complete_once(h, 1)
    assert len(h.slack.calls_to("conversations.create")) == 2  # the second met name_taken


def test_timeouts_on_every_setup_step_still_complete_once(impatient: Harness) -> None:
    h = impatient
    for method in ("conversations.invite", "conversations.setTopic", "pins.add"):
        h.slack.stall(f"/api/{method}", 2.0)
    h.command("declare sev2 Checkout is down")
    wait_until(lambda: _settled(h, 1), message="setup gave up on the timeouts")
    time.sleep(1.2)
    h.settle()
    resume_now(h)
    assert_each_incident_complete_once(h, 1)


def test_a_burst_of_declares_under_rate_limits_and_errors_loses_nothing(
    harness: Harness,
) -> None:
    h = harness
    h.slack.rate_limit_method("conversations.create", retry_after=1, times=3)
    h.slack.server_error_method("chat.postMessage", 503, times=3)
    h.slack.server_error_method("pins.add", 500, times=2)
    for n in range(5):
        assert h.command(f"declare sev3 Outage number {n}").status == 200
    wait_until(lambda: _settled(h, 5), timeout=30, message="five setups")
    h.settle()
    resume_now(h)
    assert_each_incident_complete_once(h, 5)
    with session_scope(h.deps.session_factory) as session:
        titles = sorted(r.title for r in session.query(Incident))
    assert titles == [f"Outage number {n}" for n in range(5)]


def test_an_update_post_that_times_out_after_slack_posted_it_is_not_repeated(
    impatient: Harness,
) -> None:
    h = impatient
    inc = h.declare()
    h.slack.stall("/api/chat.postMessage", 2.0, times=2)
    assert h.command("update Rolled back the deploy", channel=inc["channel"]).status == 200
    wait_until(lambda: len(_update_posts(h, inc["channel"], "Rolled back the deploy")) == 2)
    time.sleep(1.0)
    h.settle()
    row = next(r for r in incidents(h) if r.id == inc["id"])
    assert sorted(_update_posts(h, inc["channel"], "Rolled back the deploy"), key=str) == sorted(
        [(inc["channel"], None), (h.incidents_channel, row.announcement_ts)], key=str
    )


def test_a_kickoff_post_that_times_out_after_slack_posted_it_is_not_repeated(
    impatient: Harness,
) -> None:
    h = impatient
    h.slack.stall("/api/chat.postMessage", 2.0, times=2)
    h.command("declare sev2 Checkout is down")
    wait_until(lambda: _settled(h, 1), message="setup gave up on the timeout")
    time.sleep(1.2)
    h.settle()
    resume_now(h)
    assert_each_incident_complete_once(h, 1)
