"""Fixtures: a fake PagerDuty over local TLS, and a bot wired to it and to the fake Slack."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from bot.fakes.pagerduty import FakePagerDuty
from bot.fakes.slack import FakeSlack
from bot.fakes.tls import LocalCA
from tests.harness import Harness, start_harness

SECRETS = ["old-secret", "new-secret"]
FROM_EMAIL = "alice@example.com"


class SeededPagerDuty(FakePagerDuty):
    """The fake PagerDuty as seeded: a checkout service whose policy pages Alice, then Dave."""

    alice: dict[str, Any]
    dave: dict[str, Any]
    checkout: dict[str, Any]


@pytest.fixture(scope="session")
def local_ca() -> Iterator[LocalCA]:
    """Yield one throwaway CA for the whole run."""
    ca = LocalCA()
    yield ca
    ca.cleanup()


@pytest.fixture
def fake_pd(local_ca: LocalCA, monkeypatch: pytest.MonkeyPatch) -> Iterator[SeededPagerDuty]:
    """Yield a started fake PagerDuty with a service, its policy, an on-call user and a P1-P5."""
    fake = SeededPagerDuty(ca=local_ca)
    fake.start()
    # The client trusts the fake's CA the way a company CA is trusted: through SSL_CERT_FILE.
    monkeypatch.setenv("SSL_CERT_FILE", fake.ca_file)
    state = fake.state
    fake.alice = state.add_user("Alice Oncall", FROM_EMAIL)
    fake.dave = state.add_user("Dave Nobody", "dave@elsewhere.example")
    fake.checkout = state.add_service("checkout")
    policy = state.policies[fake.checkout["escalation_policy"]["id"]]
    state.add_oncall(fake.alice, policy, 1, schedule="Primary")
    state.add_oncall(fake.dave, policy, 2)
    yield fake
    fake.stop()


@pytest.fixture
def make_bot(
    fake_slack: FakeSlack, clean_engine: Engine, fake_pd: SeededPagerDuty
) -> Iterator[Callable[..., Harness]]:
    """Yield a factory of bots configured for the fake PagerDuty (settings may be overridden)."""
    started: list[Harness] = []

    def make(**overrides: Any) -> Harness:
        values: dict[str, Any] = {
            "pagerduty_api_token": fake_pd.token,
            "pagerduty_api_url": fake_pd.base_url,
            "pagerduty_from_email": FROM_EMAIL,
            "pagerduty_webhook_secret": ",".join(SECRETS),
        }
        values.update(overrides)
        h = start_harness(fake_slack, clean_engine, **values)
        started.append(h)
        return h

    yield make
    for h in started:
        h.bot.close()
        executor = h.deps.pagerduty_inbox
        if executor is not None:
            executor.shutdown(wait=True)


@pytest.fixture
def pd(make_bot: Callable[..., Harness]) -> Harness:
    """Yield a bot with PagerDuty configured."""
    return make_bot()
