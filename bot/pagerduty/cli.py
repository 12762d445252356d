"""`sevbot alert-review`: the alert review by hand (text or JSON, or posted to the channel)."""

from __future__ import annotations

import json
import sys

import click

from bot.cli_context import CliContext, open_database, pass_cli
from bot.settings import ConfigError, parse_duration


def _progress(path: str, count: int) -> None:
    click.echo(f"read a page of {count} from {path}", err=True)


@click.command("alert-review")
@click.option("--since", "since", default="14d", show_default=True, help="window length: 14d, 72h")
@click.option("--dry-run", is_flag=True, help="print the review; post nothing, keep the rotation")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@pass_cli
def alert_review_command(cli: CliContext, since: str, dry_run: bool, fmt: str) -> None:
    """Review the PagerDuty alerts of the last window (posted to ALERT_REVIEW_CHANNEL)."""
    from bot.db import make_session_factory
    from bot.integrations.pagerduty import make_pagerduty
    from bot.integrations.ports import IntegrationError
    from bot.pagerduty.alert_review import generate, post_review
    from bot.pagerduty.review import parse_night_hours, render_json, render_text

    try:
        span = parse_duration(since)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from exc
    settings = cli.settings
    try:
        parse_night_hours(settings.night_hours)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    adapter = make_pagerduty(settings)
    if adapter is None:
        raise click.ClickException("PagerDuty is not configured: set PAGERDUTY_API_TOKEN")
    if not dry_run and not settings.alert_review_channel:
        raise click.ClickException("set ALERT_REVIEW_CHANNEL to post the review, or use --dry-run")
    try:
        engine = open_database(settings)
    except click.ClickException:
        adapter.close()
        raise
    try:
        factory = make_session_factory(engine)
        review, plan = generate(
            adapter, settings=settings, session_factory=factory, span=span, on_page=_progress
        )
        click.echo(f"read {adapter.requests_made} pages", err=True)
        if dry_run:
            if fmt == "json":
                json.dump(render_json(review), sys.stdout, indent=2)
                click.echo()
            else:
                click.echo(render_text(review, for_slack=False))
            return
        from bot.integrations.slack import SlackAdapter, make_web_client

        assert settings.alert_review_channel is not None
        ts = post_review(
            review,
            plan,
            chat=SlackAdapter(make_web_client(settings)),
            channel=settings.alert_review_channel,
            session_factory=factory,
        )
        click.echo(f"posted the review to {settings.alert_review_channel} (ts {ts})", err=True)
    except (IntegrationError, ConfigError) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        adapter.close()
        engine.dispose()
