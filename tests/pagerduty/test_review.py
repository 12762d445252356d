"""The alert review: `sevbot alert-review` and the scheduled job, against the fake PagerDuty."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, select

from bot.cli import main
from bot.db import make_session_factory, session_scope
from bot.fakes.slack import FakeSlack
from bot.pagerduty.alert_review import scheduled_review
from bot.pagerduty.models import AlertReviewPick
from bot.pagerduty.review import is_night, normalise_title
from tests.harness import Harness
from tests.pagerduty.conftest import SeededPagerDuty

NOW = datetime.now(UTC).replace(microsecond=0)


def _at(days_ago: int, hour: int, minute: int = 0) -> datetime:
    return (NOW - timedelta(days=days_ago)).replace(hour=hour, minute=minute, second=0)


def seed(fake: SeededPagerDuty) -> None:
    """Two windows of incidents with known numbers (UTC, night is 22-08)."""
    state = fake.state
    alice = fake.alice
    checkout = fake.checkout
    search = state.add_service("search")
    done = timedelta(minutes=50)
    add = state.add_incident
    add(checkout, "High CPU on web-01", created_at=_at(3, 23, 30), acknowledged_by=alice,
        ack_after=timedelta(minutes=2), resolved_after=done)  # fmt: skip
    add(checkout, "High CPU on web-02", created_at=_at(4, 12), acknowledged_by=alice,
        ack_after=timedelta(minutes=6), resolved_after=done, alerts=3)  # fmt: skip
    add(checkout, "High CPU on web-03", created_at=_at(5, 12), resolved_after=done)
    add(search, "Queue depth 500 on worker-abc123ef", created_at=_at(2, 13),
        acknowledged_by=alice, ack_after=timedelta(minutes=10))  # fmt: skip
    for title, days in (("Disk 81% on db-1", 6), ("Disk 90% on db-2", 7)):
        add(checkout, title, created_at=_at(days, 14), urgency="low", resolved_after=done)
    for days in (8, 9):
        title = f"Pod {datetime.now().timestamp():.0f}-{days} restarted"
        add(checkout, title, created_at=_at(days, 15), urgency="low", incident_key="pod-restarts")
    add(search, "Certificate for host-1 expires", created_at=_at(10, 9), urgency="low")
    add(search, "Slow query 1234ms", created_at=_at(11, 9), urgency="low")
    add(checkout, "High CPU on web-09", created_at=_at(20, 12), resolved_after=done)


@pytest.fixture
def cli_env(
    fake_pd: SeededPagerDuty, fake_slack: FakeSlack, clean_engine: Engine
) -> dict[str, str]:
    """Return the environment of a sevbot CLI talking to the fakes and the test database."""
    seed(fake_pd)
    fake_slack.add_channel("alert-review")
    return {
        "DATABASE_URL": clean_engine.url.render_as_string(hide_password=False),
        "PAGERDUTY_API_TOKEN": fake_pd.token,
        "PAGERDUTY_API_URL": fake_pd.base_url,
        "SLACK_BOT_TOKEN": fake_slack.bot_token,
        "SLACK_API_URL": fake_slack.api_url,
        "ALERT_REVIEW_CHANNEL": "alert-review",
        "ALERT_REVIEW_PICKS": "2",
        "LOG_LEVEL": "WARNING",
    }


def _run(env: dict[str, str], *args: str) -> Any:
    # `sevbot alert-review ...`: the feature contributes the command to the CLI group.
    return CliRunner().invoke(main, ["alert-review", *args], env=env, catch_exceptions=False)


def _picks(engine: Engine) -> list[tuple[int, str]]:
    with session_scope(make_session_factory(engine)) as session:
        rows = session.scalars(select(AlertReviewPick).order_by(AlertReviewPick.id))
        return [(r.cycle, r.label) for r in rows]


def test_dry_run_json_has_counts_rankings_picks_and_trend(
    cli_env: dict[str, str], fake_pd: SeededPagerDuty, fake_slack: FakeSlack, clean_engine: Engine
) -> None:
    result = _run(cli_env, "--dry-run", "--format", "json")
    assert result.exit_code == 0, result.output
    review = json.loads(result.stdout)
    cur, prev = review["current"], review["previous"]
    assert cur["incidents"] == 10 and cur["alerts"] == 12 and cur["night_pages"] == 1
    assert cur["services"]["checkout"]["high"] == {"incidents": 3, "alerts": 5, "night": 1}
    assert cur["services"]["checkout"]["low"]["incidents"] == 4
    assert cur["services"]["search"]["low"]["incidents"] == 2
    top = cur["ranking"][0]
    assert (top["service"], top["alert"], top["count"]) == ("checkout", "High CPU on web-<n>", 3)
    assert top["median_ack_seconds"] == 240.0  # 2 and 6 minutes
    assert top["resolved_without_ack"] == 1 and top["resolved"] == 3
    assert prev["incidents"] == 1 and prev["ranking"][0]["count"] == 1
    assert [p["alert"] for p in review["picks"]][0] == "Disk <n>% on db-<n>"
    assert len(review["picks"]) == 2
    assert "read a page" in result.stderr
    # Dry run: nothing posted, rotation untouched, and only list pages were read.
    assert fake_slack.messages("alert-review") == [] and _picks(clean_engine) == []
    assert {c.path for c in fake_pd.calls()} == {"/incidents", "/log_entries"}
    assert all(c.query["limit"] == ["100"] for c in fake_pd.calls())


def test_text_dry_run_prints_the_review(cli_env: dict[str, str]) -> None:
    result = _run(cli_env, "--dry-run", "--since", "14d")
    assert result.exit_code == 0
    assert "*Alert review" in result.stdout
    assert "checkout · High CPU on web-<n>: 3 (prev 1) · 4m · 33%" in result.stdout


def test_posting_rotates_picks_until_exhausted(
    cli_env: dict[str, str], fake_slack: FakeSlack, clean_engine: Engine
) -> None:
    for _ in range(3):
        assert _run(cli_env).exit_code == 0
    assert len(fake_slack.messages("alert-review")) == 3
    posted = fake_slack.messages("alert-review")[0]["text"]
    assert "checkout · High CPU on web-&lt;n&gt;: 3 (prev 1)" in posted  # escaped for Slack
    picks = _picks(clean_engine)
    first, second, third = picks[0:2], picks[2:4], picks[4:6]
    assert {label for _, label in first}.isdisjoint({label for _, label in second})
    assert [c for c, _ in first + second] == [1, 1, 1, 1]
    assert [c for c, _ in third] == [2, 2] and third == [(2, label) for _, label in first]


def test_long_windows_are_split_under_six_months(
    cli_env: dict[str, str], fake_pd: SeededPagerDuty
) -> None:
    result = _run(cli_env, "--dry-run", "--since", "100d", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["current"]["incidents"] == 11
    spans = {(c.query["since"][0], c.query["until"][0]) for c in fake_pd.calls("/incidents")}
    assert len(spans) == 2


@pytest.mark.parametrize(
    ("args", "env_change", "expected"),
    [
        (["--since", "fortnight"], {}, "not a duration"),
        (["--since", "0d"], {}, "shorter than the minimum"),
        (["--format", "xml"], {}, "Invalid value for '--format'"),
        (["--dry-run"], {"PAGERDUTY_API_TOKEN": ""}, "PAGERDUTY_API_TOKEN"),
        ([], {"ALERT_REVIEW_CHANNEL": ""}, "ALERT_REVIEW_CHANNEL"),
        (["--dry-run"], {"NIGHT_HOURS": "22-22"}, "NIGHT_HOURS"),
    ],
)
def test_bad_input_exits_non_zero_with_a_reason(
    cli_env: dict[str, str],
    fake_slack: FakeSlack,
    args: list[str],
    env_change: dict[str, str],
    expected: str,
) -> None:
    env = {**cli_env, **env_change}
    result = _run({k: v for k, v in env.items() if v}, *args)
    assert result.exit_code != 0
    assert expected in result.output
    assert fake_slack.messages("alert-review") == []


def test_scheduled_review_posts_every_other_monday_once(
    make_bot: Any, fake_pd: SeededPagerDuty, fake_slack: FakeSlack
) -> None:
    seed(fake_pd)
    fake_slack.add_channel("alert-review")
    h: Harness = make_bot(alert_review_channel="alert-review", default_timezone="Europe/Berlin")
    assert [j.name for j in h.bot.jobs if j.name == "alert_review"] == ["alert_review"]
    trigger = next(j for j in h.bot.jobs if j.name == "alert_review").trigger
    fire = trigger.get_next_fire_time(None, NOW)
    local = fire.astimezone(ZoneInfo("Europe/Berlin"))
    assert (local.weekday(), local.hour, local.minute) == (0, 10, 0)
    assert scheduled_review(h.deps, now=NOW) is not None
    assert scheduled_review(h.deps, now=NOW) is None  # the same run does not post twice
    assert scheduled_review(h.deps, now=NOW + timedelta(days=7)) is None  # the off week
    assert scheduled_review(h.deps, now=NOW + timedelta(days=14)) is not None
    assert len(fake_slack.messages("alert-review")) == 2


def test_titles_are_normalised_and_night_wraps_midnight() -> None:
    uuid_title = "Pod 3f2b8c1e-1d2a-4c3b-9a8f-0123456789ab on host 17"
    assert normalise_title(uuid_title) == "Pod <uuid> on host <n>"
    assert normalise_title("Lag on replica-deadbeef42 is 12s") == "Lag on replica-<hex> is <n>s"
    tz = ZoneInfo("Europe/Berlin")
    assert is_night(datetime(2026, 1, 5, 22, 30, tzinfo=UTC), tz, (22, 8))  # 23:30 in Berlin
    assert is_night(datetime(2026, 1, 5, 6, 30, tzinfo=UTC), tz, (22, 8))  # 07:30
    assert not is_night(datetime(2026, 1, 5, 7, 30, tzinfo=UTC), tz, (22, 8))  # 08:30
