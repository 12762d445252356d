"""Declarative Base, engine and session factories, and migrations."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event, literal_column, text
from sqlalchemy.engine import CursorResult, Dialect
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


class UtcDateTime(TypeDecorator[datetime]):
    """Store timezone-aware UTC datetimes; SQLite hands back naive ones, so re-attach UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Base class of every table, with a constraint naming convention for Alembic."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UtcDateTime}


def utcnow() -> datetime:
    """Return the current time in UTC (time-machine controls it in tests)."""
    return datetime.now(UTC)


# Sized for a process's threads: 8 HTTP threads acking Slack plus 16 listener threads doing the
# slow part, each holding a connection only for a short transaction; the overflow covers the
# scheduler and setup's parallel steps. An ack never waits for a connection.
POOL_SIZE = 24
MAX_OVERFLOW = 24


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and foreign keys."""
    if "://" in url and ":memory:" not in url and url not in ("sqlite://", "sqlite:///"):
        kwargs.setdefault("pool_size", POOL_SIZE)
        kwargs.setdefault("max_overflow", MAX_OVERFLOW)
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            if ":memory:" not in url and url != "sqlite://":
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        if ":memory:" not in url and url != "sqlite://":
            _queue_writers(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


_WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)
_WRITER_WAIT = 30.0  # seconds; then fall back to SQLite's own busy handling


def _queue_writers(engine: Engine) -> None:
    """Make this process's SQLite writers wait in line on a lock, not in SQLite's busy handler.

    SQLite lets one writer in at a time; the others sleep in growing steps (up to 100 ms) and
    retry, so under a burst an ack could sleep hundreds of milliseconds while the database was
    free. A transaction takes the lock at its first write and gives it back when it ends.
    """
    lock = threading.Lock()

    @event.listens_for(engine, "before_cursor_execute")
    def _take(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "sevbot_writer" not in conn.info and _WRITE.match(statement):
            conn.info["sevbot_writer"] = lock.acquire(timeout=_WRITER_WAIT)

    def _give_back(conn: Any) -> None:
        if conn.info.pop("sevbot_writer", False):
            lock.release()

    event.listen(engine, "commit", _give_back)
    event.listen(engine, "rollback", _give_back)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return a session factory whose objects stay readable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Open a session, commit on success and roll back on error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


T = TypeVar("T")


def unreachable(exc: BaseException) -> bool:
    """Say whether a database error means the server could not be reached (a restart, a blip)."""
    if isinstance(exc, OperationalError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def retry_while_unreachable(
    write: Callable[[], T], *, within: float = 20.0, sleep: Callable[[float], None] = time.sleep
) -> T:
    """Run a short, repeatable transaction, retrying while the database is unreachable.

    For recording what Slack already did (a message ts): losing that record to a database
    restart would make a retry do it twice.
    """
    deadline = time.monotonic() + within
    delay = 0.1
    while True:
        try:
            return write()
        except DBAPIError as exc:
            if not unreachable(exc) or time.monotonic() + delay > deadline:
                raise
        sleep(delay)
        delay = min(delay * 2, 1.0)


def alembic_config(engine: Engine) -> Any:
    """Return an Alembic Config pointing at migrations/ and this engine."""
    from alembic.config import Config

    if not MIGRATIONS_DIR.is_dir():
        raise RuntimeError(
            f"migrations folder not found at {MIGRATIONS_DIR}; install sevbot from a checkout"
        )
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


MIGRATION_LOCK_ID = 0x5EB0_0DB1  # pg advisory lock key: one migrating replica at a time


def migrate(engine: Engine, revision: str = "head") -> None:
    """Apply pending migrations up to revision; replicas starting together take turns.

    Alembic logs only when a migration actually runs.
    """
    if engine.dialect.name != "postgresql":
        _upgrade(engine, revision)
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_ID})
        try:
            _upgrade(engine, revision)
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_ID})


def _upgrade(engine: Engine, revision: str) -> None:
    alembic_log = logging.getLogger("alembic")
    level = alembic_log.level
    alembic_log.setLevel(logging.WARNING)  # its set-up chatter comes before we know
    try:
        from alembic import command

        config = alembic_config(engine)
        if revision != "head" or not at_head(engine, config):
            alembic_log.setLevel(level)
        command.upgrade(config, revision)
    finally:
        alembic_log.setLevel(level)


def at_head(engine: Engine, config: Any) -> bool:
    """Say whether the database is already at the newest revision(s)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    heads = set(ScriptDirectory.from_config(config).get_heads())
    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    return current == heads


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Revert migrations down to revision."""
    from alembic import command

    command.downgrade(alembic_config(engine), revision)


def ping(engine: Engine) -> bool:
    """Say whether the database answers a trivial query."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


def rowcount(result: object) -> int:
    """Rows touched by an INSERT/UPDATE/DELETE result (typed access to ``CursorResult``)."""
    return int(cast(CursorResult[Any], result).rowcount)


def inserted(session: Session, statement: Any) -> bool:
    """Run an ``INSERT … ON CONFLICT DO NOTHING``; return True when a row was inserted.

    Asked through ``RETURNING``: psycopg 3 reports rowcount -1 for these statements.
    """
    return session.execute(statement.returning(literal_column("1"))).first() is not None


def upsert_insert(session: Session, table: Any) -> Any:
    """Return the dialect's INSERT (PostgreSQL or SQLite), which has ON CONFLICT support."""
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    dialect = session.get_bind().dialect.name
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(table)
