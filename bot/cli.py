"""The sevbot command line: run, web, worker, migrate (features add more)."""

from __future__ import annotations

from typing import Any

import click

from bot.settings import ConfigError, Settings, load_settings


def _settings() -> Settings:
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


def _require_slack(settings: Settings) -> None:
    if settings.slack_bot_token is None:
        raise click.ClickException("SLACK_BOT_TOKEN is not set; see config/example.env")
    if not settings.socket_mode and settings.slack_signing_secret is None:
        raise click.ClickException(
            "SLACK_SIGNING_SECRET is required in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)"
        )


def _assemble(settings: Settings) -> Any:
    from bot.features import build_full_deps
    from bot.runtime import assemble
    from bot.startup import explain

    try:
        return assemble(settings, build_full_deps(settings))
    except Exception as exc:  # a database or Slack that cannot be reached, a refused token
        raise click.ClickException(explain(exc, settings)) from None


class _SevbotGroup(click.Group):
    """The command group, plus the commands features contribute (looked up on demand)."""

    def _features(self) -> dict[str, click.Command]:
        from bot.demo.cli import demo
        from bot.features import feature_commands

        return {command.name: command for command in [*feature_commands(), demo] if command.name}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._features()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, cmd_name) or self._features().get(cmd_name)


@click.group(cls=_SevbotGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """sevbot: declare SEV incidents in Slack, nudge for updates, file postmortems."""


def _serve(*, http: bool | None, socket: bool, scheduler: bool) -> None:
    from bot.runtime import serve
    from bot.socket_mode import SocketModeError

    settings = _settings()
    _require_slack(settings)
    bot = _assemble(settings)
    try:
        serve(
            bot,
            http=(not settings.socket_mode) if http is None else http,
            socket=socket and settings.socket_mode,
            scheduler=scheduler,
        )
    except SocketModeError as exc:
        raise click.ClickException(f"{exc} (check SLACK_APP_TOKEN)") from exc


@main.command()
def run() -> None:
    """Apply migrations, then serve Slack and run the scheduler, all in one process."""
    _serve(http=None, socket=True, scheduler=True)


@main.command()
def web() -> None:
    """Serve HTTP only (Events API, interactivity, webhooks, /healthz); safe as several replicas."""
    _serve(http=True, socket=False, scheduler=False)


@main.command()
def worker() -> None:
    """Run the scheduler, plus the Socket Mode connection when SLACK_APP_TOKEN is set; no HTTP."""
    _serve(http=False, socket=True, scheduler=True)


@main.command()
def migrate() -> None:
    """Apply pending database migrations (the Procfile's release phase)."""
    from bot.db import make_engine
    from bot.db import migrate as apply

    settings = _settings()
    from bot.startup import explain

    try:
        apply(make_engine(settings.database_url))
    except Exception as exc:
        raise click.ClickException(explain(exc, settings)) from None
    click.echo("database is up to date")
