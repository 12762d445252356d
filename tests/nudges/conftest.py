"""Fixtures for the nudge tests: a bot on the fake Slack with frozen, steerable time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import Engine, select

from bot.db import session_scope
from bot.deps import Deps, build_deps
from bot.fakes.slack import FakeSlack
from bot.features import install_features
from bot.integrations.slack_metadata import OUTBOX_EVENT
from bot.nudges.jobs import PassResult, run_nudges
from bot.nudges.rules import ALL_KINDS, nudge_kind
from bot.outbox.models import OutboxMessage
from tests.harness import Harness, start_harness, wait_until

T0 = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)


class Clock:
    """Frozen time that tests move forward explicitly."""

    def __init__(self, traveller: Any) -> None:
        self.traveller = traveller
        self.now = T0

    def advance(self, **delta: float) -> datetime:
        """Move time forward."""
        step = timedelta(**delta)
        self.traveller.shift(step)
        self.now += step
        return self.now

    def at(self, start: datetime, **delta: float) -> datetime:
        """Move time to start + delta (never backwards)."""
        target = start + timedelta(**delta)
        assert target >= self.now, "time only moves forward"
        return self.advance(seconds=(target - self.now).total_seconds())


@pytest.fixture
def clock() -> Iterator[Clock]:
    """Freeze time at T0."""
    with time_machine.travel(T0, tick=False) as traveller:
        yield Clock(traveller)


@pytest.fixture
def nh(fake_slack: FakeSlack, clean_engine: Engine, clock: Clock) -> Iterator[Harness]:
    """Yield a harness with a managers channel configured."""
    fake_slack.add_user("dave", email="dave@example.com", tz="America/New_York")
    fake_slack.add_channel("managers")
    running = start_harness(fake_slack, clean_engine, managers_channel="managers")
    yield running
    running.bot.close()


def second_process(h: Harness) -> Deps:
    """Build another bot's deps on the same database and Slack (as a second replica would)."""
    return install_features(build_deps(h.deps.settings, engine=h.deps.engine))


def run(deps: Deps) -> PassResult:
    """Run one nudge pass and return what it did."""
    result = run_nudges(deps)
    assert result is not None
    return result


def nudge_messages(h: Harness, channel: str) -> list[dict[str, Any]]:
    """Return the nudge messages in a channel (or DM), oldest first."""
    return [
        m
        for m in h.slack.messages(channel)
        if (m.get("metadata") or {}).get("event_type") == OUTBOX_EVENT
        and nudge_kind(str(((m.get("metadata") or {}).get("event_payload") or {}).get("key")))
    ]


def deliveries(h: Harness, kind: str | None = None) -> list[OutboxMessage]:
    """Return the recorded nudges, by due time."""
    with session_scope(h.deps.session_factory) as session:
        query = (
            select(OutboxMessage)
            .where(OutboxMessage.kind.in_(ALL_KINDS))
            .order_by(OutboxMessage.due_at, OutboxMessage.key)
        )
        if kind:
            query = query.where(OutboxMessage.kind == kind)
        return list(session.scalars(query).all())


def dm_channel(h: Harness, user: str) -> str | None:
    """Return the id of the bot's DM with a user, if one was opened."""
    for channel in h.slack.channels():
        if channel["id"].startswith("D") and user in channel["members"]:
            return str(channel["id"])
    return None


def human_message(h: Harness, channel: str, user: str, text: str = "looking") -> None:
    """Deliver a person's message in a channel as an Events API event."""
    response = h.dispatch(h.signer.message_event(channel=channel, user=user, text=text))
    assert response.status == 200
    h.deps.incidents.activity.flush()  # activity is group-committed after the ack


def wait_for(predicate: Any, message: str = "") -> Any:
    """Wait for background follow-ups."""
    return wait_until(predicate, message=message)
