"""Fixtures of the fault suite: a bot whose Slack calls time out after one second."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from bot.fakes.slack import FakeSlack
from tests.harness import Harness, start_harness

# The PagerDuty fixtures (a fake PagerDuty over local TLS and bots wired to it).
from tests.pagerduty.conftest import fake_pd, local_ca, make_bot, pd  # noqa: F401


@pytest.fixture
def impatient(fake_slack: FakeSlack, clean_engine: Engine) -> Iterator[Harness]:
    """Yield a bot wired to the fake Slack with a 1 s Slack timeout."""
    running = start_harness(fake_slack, clean_engine, slack_timeout="1s")
    yield running
    running.bot.close()
