"""What the `sevbot` group hands its commands: the Settings, loaded once, and the start-up steps.

The `main` group puts a `CliContext` on the click context; a command (the core's or a
feature's) takes it with `@pass_cli`. Nothing here imports `bot.cli`, so features can use it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from bot.settings import ConfigError, Settings, load_settings

if TYPE_CHECKING:
    from sqlalchemy import Engine


def start_settings() -> Settings:
    """Load the Settings and configure logging and tracing; a bad setting exits with the reason."""
    try:
        settings = load_settings()
    except ConfigError as exc:  # one line: the key, the problem and where it came from
        raise click.ClickException(" ".join(str(exc).split())) from None
    from bot.logs import configure_logging, secret_values

    configure_logging(settings.log_level, settings.log_format, secret_values(settings))
    from bot.observability.tracing import configure_tracing

    try:
        configure_tracing()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    return settings


def open_database(settings: Settings) -> Engine:
    """Return an engine on the migrated database; an unreachable one exits with the reason."""
    from bot.db import make_engine, migrate
    from bot.startup import explain

    try:
        engine = make_engine(settings.database_url)
    except Exception as exc:  # a DATABASE_URL that is not a URL
        raise click.ClickException(explain(exc, settings)) from None
    try:
        migrate(engine)
    except Exception as exc:  # a database that cannot be reached, or a migration that fails
        engine.dispose()
        raise click.ClickException(explain(exc, settings)) from None
    return engine


class CliContext:
    """The click context object: the Settings, loaded the first time a command asks for them.

    Loading waits for a command that needs them, so `--help`, `sevbot demo` and `sevbot doctor`
    (which reports a broken setting as a check) still work when the settings do not load.
    """

    def __init__(self) -> None:
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        """Return the Settings, loading them (and configuring logging) on first use."""
        if self._settings is None:
            self._settings = start_settings()
        return self._settings


# A command run on its own (as tests do) gets a fresh CliContext of its own.
pass_cli = click.make_pass_decorator(CliContext, ensure=True)
