"""The `sevbot doctor` command: run the checks, print a table (or JSON), exit 1 on a failure."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from bot.doctor.checks import FAIL, OK, Check, run_checks

_STYLE = {OK: "green", FAIL: "bold red"}


def render_table(checks: list[Check], console: Console) -> None:
    """Print the checks as a table: check, status, finding, fix."""
    table = Table(title="sevbot doctor", show_lines=False)
    for column in ("check", "status", "finding", "fix"):
        table.add_column(column, overflow="fold")
    for check in checks:
        style = _STYLE.get(check.status, "dim")
        table.add_row(check.name, f"[{style}]{check.status}[/]", check.finding, check.fix)
    console.print(table)


@click.command()
@click.option(
    "--format",
    "output",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="json prints a list of {name, status, finding, fix} for scripts",
)
@click.option(
    "--manifest",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Slack app manifest whose scopes must be granted [default: config/slack-manifest.yaml]",
)
def doctor(output: str, manifest: Path | None) -> None:
    """Check settings, database, Slack, PagerDuty and Notion (read-only); exit 1 on a failure."""
    checks = run_checks(manifest)
    if output == "json":
        click.echo(json.dumps([asdict(c) for c in checks], indent=2))
    else:
        render_table(checks, Console(width=160, soft_wrap=False))
    failed = [c.name for c in checks if c.status == FAIL]
    if failed:
        raise click.exceptions.Exit(1)
