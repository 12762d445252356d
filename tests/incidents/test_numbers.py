"""Incident numbers under a burst: a counter row, so concurrent declares never run out."""

from __future__ import annotations

import threading

from sqlalchemy import Engine, func, select

from bot.db import make_session_factory, session_scope
from bot.incidents import service
from bot.incidents.declare import DeclareRequest, open_declaration
from bot.incidents.models import Counter, Incident
from bot.settings import Settings

BURST = 40


def _settings() -> Settings:
    return Settings(slack_bot_token="xoxb-test", slack_signing_secret="s", sevbot_config=None)


def _declare_at_once(engine: Engine, keys: list[str]) -> list[object]:
    factory = make_session_factory(engine)
    settings = _settings()
    barrier = threading.Barrier(len(keys))
    results: list[object] = [None] * len(keys)

    def declare(i: int) -> None:
        request = DeclareRequest(
            request_key=keys[i], title=f"Burst {i}", severity="SEV-3", reporter_id="U1"
        )
        barrier.wait()
        try:
            results[i] = open_declaration(request, session_factory=factory, settings=settings)
        except Exception as exc:  # recorded, so the assertion shows what failed
            results[i] = exc

    threads = [threading.Thread(target=declare, args=(i,)) for i in range(len(keys))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_a_burst_of_declares_gets_every_number_once_without_gaps(clean_engine: Engine) -> None:
    results = _declare_at_once(clean_engine, [f"cmd:burst-{i}" for i in range(BURST)])
    failures = [r for r in results if isinstance(r, Exception)]
    assert failures == []
    with session_scope(make_session_factory(clean_engine)) as session:
        numbers = sorted(session.scalars(select(Incident.number)).all())
    assert numbers == list(range(1, BURST + 1))


def test_the_same_request_twice_at_once_makes_one_incident(clean_engine: Engine) -> None:
    results = _declare_at_once(clean_engine, ["cmd:twice"] * 8)
    assert not [r for r in results if isinstance(r, Exception)]
    created = [r for r in results if isinstance(r, tuple) and r[1]]
    assert len(created) == 1
    with session_scope(make_session_factory(clean_engine)) as session:
        assert session.scalar(select(func.count()).select_from(Incident)) == 1
        # the twins rolled back: the counter did not skip a number
        assert session.scalar(select(Counter.value)) == 1


def test_numbers_continue_after_existing_incidents_when_the_counter_row_is_missing(
    clean_engine: Engine,
) -> None:
    factory = make_session_factory(clean_engine)
    _declare_at_once(clean_engine, ["cmd:a", "cmd:b"])
    with session_scope(factory) as session:
        session.query(Counter).delete()
    with session_scope(factory) as session:
        assert service.next_number(session=session) == 3
