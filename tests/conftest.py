"""Shared fixtures: migrated databases (SQLite and PostgreSQL) and transactional sessions."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from bot.db import make_engine, migrate
from bot.models import metadata

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _postgres_url() -> str:
    url = os.environ.get("TEST_DATABASE_URL", DEFAULT_PG_URL)
    return url.replace("postgresql://", "postgresql+psycopg://", 1) if "+psycopg" not in url else url


def _reset_postgres(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))


def _open_engine(kind: str, tmp_path_factory: pytest.TempPathFactory) -> Engine:
    if kind == "sqlite":
        path = Path(tmp_path_factory.mktemp("db")) / "test.db"
        return make_engine(f"sqlite:///{path}")
    engine = make_engine(_postgres_url())
    try:
        _reset_postgres(engine)
    except Exception as exc:
        if os.environ.get("TEST_DATABASE_URL") or os.environ.get("CI"):
            pytest.fail(f"PostgreSQL at {_postgres_url()} is required and unreachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable ({exc}); set TEST_DATABASE_URL to run these tests")
    return engine


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """Yield a database migrated to head, once per session and backend."""
    eng = _open_engine(request.param, tmp_path_factory)
    migrate(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> Iterator[sessionmaker[Session]]:
    """Yield a session factory whose work is rolled back after the test."""
    connection = engine.connect()
    outer = connection.begin()
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


@pytest.fixture
def clean_engine(engine: Engine) -> Iterator[Engine]:
    """Yield the migrated engine for multi-threaded tests; empty every table afterwards."""
    yield engine
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())
