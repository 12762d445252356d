"""`sevbot incident-review` on the hand-computed fixture (SQLite file, as the CLI opens it)."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import time_machine
from click.testing import CliRunner

from bot.cli import main
from bot.db import make_engine, make_session_factory, migrate
from tests.reviews.test_figures import UNTIL, seed


def _seeded_cli_database() -> None:
    engine = make_engine(os.environ["DATABASE_URL"])
    migrate(engine)
    with make_session_factory(engine)() as session:
        seed(session)
    engine.dispose()


def _run(*args: str):
    with time_machine.travel(UNTIL, tick=False):
        return CliRunner().invoke(main, ["incident-review", *args], catch_exceptions=False)


def test_json_and_csv_carry_the_fixture_figures(tmp_path: Path) -> None:
    _seeded_cli_database()
    result = _run("--format", "json", "--chart", str(tmp_path / "chart.png"))
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["current"]["declared"] == 5 and body["previous"]["declared"] == 2
    assert body["current"]["times"]["to_acknowledge"]["all"]["p90_seconds"] == 1800.0
    assert (tmp_path / "chart.png").read_bytes().startswith(b"\x89PNG")
    result = _run("--format", "csv")
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["period", "section", "group", "measure", "value"]
    assert ["current", "postmortems", "completed_on_time", "met", "1"] in rows
    text = _run().stdout
    assert "Incidents declared: 5 (+3 vs 2)" in text and "*" not in text.splitlines()[0]


def test_a_shorter_period_and_bad_input(tmp_path: Path) -> None:
    _seeded_cli_database()
    body = json.loads(_run("--since", "7d", "--format", "json").stdout)
    assert body["current"]["declared"] == 2  # I4 and I6, declared in the last week
    bad = _run("--since", "a month")
    assert bad.exit_code != 0 and "not a duration" in bad.output
    unset = _run("--post")
    assert unset.exit_code != 0 and "INCIDENT_REVIEW_CHANNEL" in unset.output
