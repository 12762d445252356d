"""PostgreSQL restarted while the bot serves declares: it reconnects and loses nothing.

The cluster is our own (initdb into a temp dir, another port); the shared one is not touched.
Without the PostgreSQL server binaries this test fails: it must not be skipped silently.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from bot.db import make_engine, migrate
from bot.fakes.slack import FakeSlack
from tests.faults.checks import assert_each_incident_complete_once, incidents, resume_now
from tests.faults.pg_cluster import ThrowawayCluster, find_binaries
from tests.harness import Harness, HttpServer, start_harness, wait_until

DECLARES = 30
EVERY = 0.2  # seconds between declares: a steady stream across the restart
DOWN_FOR = 1.5


@dataclass
class Answer:
    """What the bot answered one declare, and when."""

    number: int
    status: int
    body: str
    at: float


@pytest.fixture
def cluster() -> Iterator[ThrowawayCluster]:
    bin_dir = find_binaries()
    if bin_dir is None:
        pytest.fail(
            "the PostgreSQL restart test needs the PostgreSQL server binaries (initdb, pg_ctl): "
            "install postgresql (Debian: apt-get install postgresql) or put them on PATH"
        )
    running = ThrowawayCluster(bin_dir).init()
    running.start()
    yield running
    running.destroy()


@pytest.fixture
def bot_on_cluster(cluster: ThrowawayCluster, fake_slack: FakeSlack) -> Iterator[Harness]:
    engine = make_engine(cluster.url)
    migrate(engine)
    h = start_harness(fake_slack, engine)
    yield h
    h.bot.close()
    engine.dispose()


def _send_declares(h: Harness, server: HttpServer, answers: list[Answer]) -> None:
    for n in range(DECLARES):
        signed = h.signer.slash_command(
            user_id=h.alice, channel_id=h.general, text=f"declare sev3 Outage number {n}"
        )
        status, body = server.post("/slack/events", signed)
        answers.append(Answer(n, status, body, time.monotonic()))
        time.sleep(EVERY)


def test_a_postgres_restart_mid_run_loses_nothing(
    cluster: ThrowawayCluster, bot_on_cluster: Harness
) -> None:
    h = bot_on_cluster
    answers: list[Answer] = []
    with HttpServer(h.bot) as server:
        sender = threading.Thread(target=_send_declares, args=(h, server, answers))
        sender.start()
        wait_until(lambda: len(answers) >= 5, message="declares flowing")
        stopped, started = cluster.restart(DOWN_FOR)
        sender.join(timeout=120)
    h.settle(timeout=60)
    resume_now(h)  # the scheduler's resume job finishes setups the outage interrupted
    h.settle(timeout=60)

    accepted = [a for a in answers if a.status == 200 and "Declaring INC-" in a.body]
    refused = [a for a in answers if a not in accepted]
    during = [a for a in answers if stopped <= a.at <= started + 0.05]
    after = [a for a in answers if a.at > started]
    first_ok_after = min((a.at for a in accepted if a.at > started), default=None)
    recovery = (first_ok_after - started) if first_ok_after else float("inf")
    print(
        f"\n{len(accepted)} declares accepted, {len(refused)} refused while PostgreSQL was down "
        f"({started - stopped:.2f}s down); first accepted {recovery:.2f}s after it was back; "
        f"refusals: {sorted({(a.status, a.body[:80]) for a in refused})}"
    )

    assert len(answers) == DECLARES
    assert after and recovery < 2.0  # the pool reconnects at once (pool_pre_ping)
    assert all(a in accepted for a in answers if a.at > started + 2.0)
    # Only declares sent while the database was down were refused (nothing of theirs was
    # half-created: see the titles below)...
    for answer in refused:
        assert stopped - 0.5 <= answer.at <= started + 2.0, answer
        # ...and the reporter read why, in an ephemeral answer rather than a 500.
        assert answer.status == 200 and "can't reach my database" in answer.body, answer
    assert len(refused) <= len(during) + 1
    # Nothing lost, nothing twice: exactly the accepted declares exist, each complete once.
    titles = sorted(r.title for r in incidents(h))
    assert titles == sorted(f"Outage number {a.number}" for a in accepted)
    assert_each_incident_complete_once(h, len(accepted))
    for answer in accepted:
        assert json.loads(answer.body)["text"].startswith("Declaring INC-")


def test_a_record_of_what_slack_did_waits_out_the_restart(
    cluster: ThrowawayCluster, bot_on_cluster: Harness
) -> None:
    """The ts of a posted message is written once the database is back, not dropped."""
    from bot.db import retry_while_unreachable, session_scope
    from bot.incidents.models import Incident

    h = bot_on_cluster
    inc = h.declare("declare sev2 Checkout is down")

    def record() -> None:
        with session_scope(h.deps.session_factory) as session:
            row = session.get(Incident, inc["id"])
            assert row is not None
            row.announcement_ts = "1700000000.999999"

    cluster.stop()
    started = time.monotonic()
    restarter = threading.Timer(1.0, cluster.start)
    restarter.start()
    retry_while_unreachable(record)
    waited = time.monotonic() - started
    restarter.join()
    print(f"\nrecord written {waited:.2f}s after the database went down")
    assert waited >= 1.0
    assert incidents(h)[0].announcement_ts == "1700000000.999999"


def test_with_the_database_down_a_command_and_a_form_get_a_clear_answer(
    cluster: ThrowawayCluster, bot_on_cluster: Harness
) -> None:
    """Not a 500 ("dispatch_failed"): the author reads that nothing was recorded, and why."""
    from bot.slack.ids import IncidentBlock, IncidentCallback, IncidentInput

    h = bot_on_cluster
    cluster.stop()
    try:
        with HttpServer(h.bot) as server:
            signed = h.signer.slash_command(
                user_id=h.alice, channel_id=h.general, text="declare sev3 Database is down"
            )
            status, body = server.post("/slack/events", signed)
            assert status == 200, body
            answer = json.loads(body)
            assert answer["response_type"] == "ephemeral"
            assert "can't reach my database" in answer["text"] and "nothing" in answer["text"]
            form = [{"type": "input", "block_id": IncidentBlock.TITLE}]
            title = {"type": "plain_text_input", "value": "Database is down"}
            signed = h.signer.view_submission(
                user_id=h.alice,
                callback_id=IncidentCallback.DECLARE,
                values={IncidentBlock.TITLE: {IncidentInput.TITLE: title}},
                blocks=form,
            )
            status, body = server.post("/slack/events", signed)
            assert status == 200, body
            errors = json.loads(body)
            assert errors["response_action"] == "errors"
            assert "can't reach my database" in errors["errors"][IncidentBlock.TITLE]
    finally:
        cluster.start()
    wait_until(lambda: h.command("help").status == 200, timeout=30)
    assert incidents(h) == []  # nothing was half-recorded
