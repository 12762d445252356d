"""Alembic environment: the engine comes from sevbot (bot.db.migrate) or from DATABASE_URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from bot.db import make_engine
from bot.models import metadata

config = context.config


def _engine() -> Engine:
    engine = config.attributes.get("engine")
    if engine is not None:
        return engine  # type: ignore[no-any-return]
    from bot.settings import load_settings

    return make_engine(load_settings().database_url)


def run_migrations_online() -> None:
    """Run migrations on a live connection."""
    engine = _engine()
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            compare_type=True,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `sevbot migrate`")
run_migrations_online()
