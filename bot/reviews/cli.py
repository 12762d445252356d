"""`sevbot incident-review`: the incident review by hand (text, JSON or CSV; optionally posted)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from bot.cli_context import CliContext, open_database, pass_cli
from bot.settings import parse_duration


@click.command("incident-review")
@click.option("--since", "since", default="30d", show_default=True, help="period length: 30d, 2w")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "csv"]),
    default="text",
    show_default=True,
)
@click.option("--chart", "chart", type=click.Path(dir_okay=False), help="also write the PNG chart")
@click.option(
    "--post", is_flag=True, help="also post it, with the chart, to INCIDENT_REVIEW_CHANNEL"
)
@pass_cli
def incident_review_command(
    cli: CliContext, since: str, fmt: str, chart: str | None, post: bool
) -> None:
    """Review the incidents of the last period against the one before (drills excluded)."""
    from bot.db import make_session_factory, utcnow
    from bot.integrations.ports import IntegrationError
    from bot.reviews.chart import render_chart
    from bot.reviews.jobs import generate, post_review
    from bot.reviews.render import render_csv, render_json, render_text

    try:
        span = parse_duration(since)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from exc
    settings = cli.settings
    if post and not settings.incident_review_channel:
        raise click.ClickException("set INCIDENT_REVIEW_CHANNEL to post the review")
    engine = open_database(settings)
    try:
        review = generate(
            session_factory=make_session_factory(engine),
            settings=settings,
            until=utcnow(),
            span=span,
        )
    finally:
        engine.dispose()
    if fmt == "json":
        click.echo(json.dumps(render_json(review), indent=2))
    elif fmt == "csv":
        click.echo(render_csv(review), nl=False)
    else:
        click.echo(render_text(review, for_slack=False))
    if chart:
        png = render_chart(
            review.weeks, title="Incidents per week by severity", period_start=review.current.since
        )
        Path(chart).write_bytes(png)
        click.echo(f"wrote the chart to {chart}", err=True)
    if post:
        from bot.integrations.slack import SlackAdapter, make_web_client

        assert settings.incident_review_channel is not None
        try:
            post_review(
                review,
                chat=SlackAdapter(make_web_client(settings)),
                channel=settings.incident_review_channel,
            )
        except IntegrationError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"posted the review to {settings.incident_review_channel}", err=True)
