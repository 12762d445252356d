"""The migrations themselves: empty to head and back down, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect

from bot.db import downgrade, make_engine, migrate
from bot.models import metadata
from tests.conftest import _open_engine


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_upgrade_to_head_and_back(kind: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    engine = _open_engine(kind, tmp_path_factory)
    migrate(engine)
    tables = set(inspect(engine).get_table_names())
    assert {t.name for t in metadata.sorted_tables} <= tables
    downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate(engine)  # and up again, leaving the schema for the session fixtures
    engine.dispose()


def test_migrate_is_idempotent(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'twice.db'}")
    migrate(engine)
    migrate(engine)
    assert "incidents" in inspect(engine).get_table_names()
