"""Notion's 3 requests/s hold across processes: two independent users count at the fake."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.fakes.notion import FakeNotion
from bot.integrations.notion_limit import SharedNotionRateLimiter

ROOT = Path(__file__).resolve().parents[2]
PER_PROCESS = 9


def _run_users(fake: FakeNotion, database_url: str, *, local: bool = False) -> list[float]:
    """Run two limiter users as separate processes; return the times the fake saw requests."""
    start = time.time() + 4.0  # both have imported sevbot and opened their engine by then
    args = [fake.base_url, database_url, str(start), str(PER_PROCESS)]
    args += ["local"] if local else []
    users = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.postmortems.limit_user", *args],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for user in users:
        _, err = user.communicate(timeout=120)
        assert user.returncode == 0, err
    return sorted(r.at for r in fake.calls("/v1/users"))


def most_in_one_second(times: list[float]) -> int:
    """Return the most requests in any half-open one-second window."""
    return max(sum(1 for t in times if start <= t < start + 1.0) for start in times)


def average_rate(times: list[float]) -> float:
    """Return requests per second between the first and the last request."""
    return (len(times) - 1) / (times[-1] - times[0])


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_two_processes_share_three_requests_per_second(clean_engine: Engine) -> None:
    fake = FakeNotion(requests_per_second=3.0, burst=3)
    fake.start()
    try:
        times = _run_users(fake, _url(clean_engine))
    finally:
        fake.stop()

    assert len(times) == 2 * PER_PROCESS
    rate = average_rate(times)
    print(f"{clean_engine.dialect.name}: {rate:.2f} requests/s across two processes")
    assert rate <= 3.05
    # Slots are 1/3 s apart; scheduling jitter can put a fourth inside one second, not more.
    assert most_in_one_second(times) <= 4
    assert fake.rate_limited_count == 0  # Notion's own bucket never had to refuse one


def test_without_sharing_two_processes_exceed_the_limit(tmp_path: Path) -> None:
    """The measurement can fail: two processes pacing only themselves go past 3/s together."""
    fake = FakeNotion()
    fake.start()
    try:
        times = _run_users(fake, f"sqlite:///{tmp_path / 'unused.db'}", local=True)
    finally:
        fake.stop()
    assert average_rate(times) > 4.5
    assert most_in_one_second(times) >= 5


def test_a_429_pauses_every_process(clean_engine: Engine) -> None:
    waits: list[float] = []
    first = SharedNotionRateLimiter(clean_engine, sleep=waits.append)
    second = SharedNotionRateLimiter(clean_engine, sleep=waits.append)
    first.acquire()
    first.pause(5.0)  # the first process met a 429 with Retry-After: 5
    second.acquire()
    assert waits and waits[-1] == pytest.approx(5.0, abs=0.5)


def test_an_unreachable_database_falls_back_to_pacing_the_process(tmp_path: Path) -> None:
    from bot.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}")
    waits: list[float] = []
    limiter = SharedNotionRateLimiter(engine, sleep=waits.append)
    for _ in range(4):
        limiter.acquire()
    assert len(waits) == 3 and all(w > 0.2 for w in waits[1:])
    engine.dispose()


def test_the_running_bot_shares_the_limit(clean_engine: Engine) -> None:
    from bot.deps import build_deps
    from bot.fakes.slack import FakeSlack
    from bot.features import install_features
    from bot.postmortems import jobs
    from tests.harness import make_settings

    slack = FakeSlack()
    slack.start()
    try:
        settings = make_settings(slack, clean_engine, notion_token="secret_x")
        deps = install_features(build_deps(settings, engine=clean_engine))
    finally:
        slack.stop()
    notion = jobs.notion_of(deps)
    assert notion is not None
    assert isinstance(notion.limiter, SharedNotionRateLimiter)  # type: ignore[attr-defined]
    assert notion.limiter.engine is clean_engine  # type: ignore[attr-defined]
