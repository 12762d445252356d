"""The sevbot command line: run, web, worker, migrate (features add more)."""

from __future__ import annotations

from typing import Any

import click

from bot.cli_context import CliContext, open_database, pass_cli
from bot.settings import Settings


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
@click.pass_context
def main(ctx: click.Context) -> None:
    """sevbot: declare SEV incidents in Slack, nudge for updates, file postmortems."""
    ctx.ensure_object(CliContext)


def _serve(cli: CliContext, *, http: bool | None, socket: bool, scheduler: bool) -> None:
    from bot.runtime import serve
    from bot.socket_mode import SocketModeError

    settings = cli.settings
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
@pass_cli
def run(cli: CliContext) -> None:
    """Apply migrations, then serve Slack and run the scheduler, all in one process."""
    _serve(cli, http=None, socket=True, scheduler=True)


@main.command()
@pass_cli
def web(cli: CliContext) -> None:
    """Serve HTTP only (Events API, interactivity, webhooks, /healthz); safe as several replicas."""
    _serve(cli, http=True, socket=False, scheduler=False)


@main.command()
@pass_cli
def worker(cli: CliContext) -> None:
    """Run the scheduler, plus the Socket Mode connection when SLACK_APP_TOKEN is set; no HTTP."""
    _serve(cli, http=False, socket=True, scheduler=True)


@main.command()
@pass_cli
def migrate(cli: CliContext) -> None:
    """Apply pending database migrations (the Procfile's release phase)."""
    open_database(cli.settings).dispose()
    click.echo("database is up to date")
