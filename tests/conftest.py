"""Shared fixtures: migrated databases (SQLite and PostgreSQL) and transactional sessions."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Connection, Engine, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from bot.db import make_engine, migrate
from bot.models import metadata

if TYPE_CHECKING:  # imported for real inside the fixtures, by the tests that use them
    from bot.fakes.slack import FakeSlack
    from tests.harness import Harness

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _postgres_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL", DEFAULT_PG_URL)
    return (
        url.replace("postgresql://", "postgresql+psycopg://", 1) if "+psycopg" not in url else url
    )


def _fresh_postgres_database(admin_url: str) -> str:
    """Create a database of our own, so parallel test runs never share a schema."""
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = f"sevbot_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    _CREATED_DATABASES.append((admin_url, name))
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


_CREATED_DATABASES: list[tuple[str, str]] = []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Drop the databases this run created."""
    for admin_url, name in _CREATED_DATABASES:
        admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        except Exception:
            pass
        finally:
            admin.dispose()


def _open_engine(kind: str, tmp_path_factory: pytest.TempPathFactory) -> Engine:
    if kind == "sqlite":
        path = Path(tmp_path_factory.mktemp("db")) / "test.db"
        return make_engine(f"sqlite:///{path}")
    try:
        engine = make_engine(_fresh_postgres_database(_postgres_url()))
    except Exception as exc:
        if os.environ.get("TEST_DATABASE_URL") or os.environ.get("CI"):
            pytest.fail(f"PostgreSQL at {_postgres_url()} is required and unreachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable ({exc}); set TEST_DATABASE_URL to run these tests")
    return engine


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """Yield a database migrated to head, once per session and backend."""
    eng = _open_engine(request.param, tmp_path_factory)
    migrate(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> Iterator[sessionmaker[Session]]:
    """Yield a session factory whose work is rolled back after the test, on SQLite too.

    pysqlite only opens a transaction before DML, so SAVEPOINTs would run in autocommit and
    seeded rows survive; an explicit BEGIN makes the rollback real.
    """
    connection = engine.connect()
    outer = connection.begin()
    if engine.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN")
    factory = sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    yield factory
    outer.rollback()
    connection.close()


@pytest.fixture
def db_session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """Yield one session inside a transaction that is rolled back after the test."""
    session = session_factory()
    yield session
    session.close()


def _has_sqlite_sequence(conn: Connection) -> bool:
    return bool(
        conn.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'")).first()
    )


@pytest.fixture
def clean_engine(engine: Engine) -> Iterator[Engine]:
    """Yield the migrated engine, empty and with ids from 1, for multi-threaded tests.

    Emptied before as well as after: a rolled-back transactional test still advances
    PostgreSQL's sequences, and these tests read the ids people see (FU-1, INC-1).
    """
    _empty_tables(engine)
    yield engine
    _empty_tables(engine)


def _empty_tables(engine: Engine) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(t.name for t in metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(metadata.sorted_tables):
                conn.execute(table.delete())
            if _has_sqlite_sequence(conn):
                conn.execute(text("DELETE FROM sqlite_sequence"))


@pytest.fixture(autouse=True)
def _workspace_language_back_to_english() -> Iterator[None]:
    """Each bot sets the workspace language; let no test leave Korean behind for the next."""
    from bot.i18n import set_default_language

    yield
    set_default_language("en")


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keep the developer's environment and config/sevbot.yaml out of the tests."""
    for name in list(os.environ):
        if name.startswith(("SLACK_", "PAGERDUTY_", "NOTION_")) or name in {
            "DATABASE_URL",
            "PORT",
            "SEVBOT_LANGUAGE",
        }:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'sevbot-cli.db'}")
    empty = tmp_path / "sevbot-test.yaml"
    empty.write_text("{}\n")
    monkeypatch.setenv("SEVBOT_CONFIG", str(empty))


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """Yield a started fake Slack Web API."""
    from bot.fakes.slack import FakeSlack

    fake = FakeSlack()
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def harness(fake_slack: FakeSlack, clean_engine: Engine) -> Iterator[Harness]:
    """Yield a bot wired to the fake Slack and a clean database."""
    from tests.harness import start_harness

    running = start_harness(fake_slack, clean_engine)
    yield running
    running.bot.close()  # finish background work before the tables are emptied
