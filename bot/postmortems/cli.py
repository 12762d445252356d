"""`sevbot notion-setup`: create the postmortem database under a page, or check an existing one."""

from __future__ import annotations

import click

from bot.cli_context import CliContext, open_database, pass_cli
from bot.followups.notion import check_followups_database, followups_schema
from bot.integrations.notion import NotionAdapter
from bot.integrations.ports import IntegrationError
from bot.postmortems.setup import check_database, parse_page_id, setup_database
from bot.settings import Settings


def _notion(settings: Settings) -> tuple[NotionAdapter, list[str], str | None, str | None]:
    engine = open_database(settings)  # every sevbot command brings the database up to date first
    # Shares Notion's 3 requests/s with the running bot through the database.
    notion = NotionAdapter.from_settings(settings, engine=engine)
    if notion is None:
        raise click.ClickException(
            "NOTION_TOKEN is not set: create an internal integration at "
            "https://www.notion.so/profile/integrations and export its secret as NOTION_TOKEN"
        )
    return (
        notion,
        settings.severity_names,
        settings.notion_postmortem_database_id,
        settings.notion_followups_database_id,
    )


def _create_followups(notion: NotionAdapter, parent: str, postmortems: str) -> None:
    source = notion.data_source_id(postmortems)
    followups = notion.create_database(parent, "Follow-ups", followups_schema(source))
    click.echo(f"Created the follow-ups database {followups}.")
    click.echo(f"Configure it with: NOTION_FOLLOWUPS_DATABASE_ID={followups}")


def _notion_id(value: str, option: str) -> str:
    try:
        return parse_page_id(value)
    except ValueError as exc:
        raise click.BadParameter(
            "expected a Notion id (32 hex digits) or a notion.so URL", param_hint=option
        ) from exc


@click.command("notion-setup")
@click.option("--parent-page", help="Page (id or URL) to create the postmortem database under.")
@click.option(
    "--database",
    help="Existing database (id or URL) to check; defaults to NOTION_POSTMORTEM_DATABASE_ID.",
)
@click.option("--title", default="Postmortems", show_default=True, help="Title of a new database.")
@click.option(
    "--force",
    is_flag=True,
    help="Create a new database even though NOTION_POSTMORTEM_DATABASE_ID is set.",
)
@pass_cli
def notion_setup(
    cli: CliContext, parent_page: str | None, database: str | None, title: str, force: bool
) -> None:
    """Create the Notion postmortem and follow-ups databases, or check existing ones."""
    if parent_page and database:
        raise click.UsageError("give either --parent-page (create) or --database (check), not both")
    notion, severities, configured, followups = _notion(cli.settings)
    if parent_page and configured and not followups and not force:
        try:  # the postmortems exist: add the follow-ups database next to them
            _create_followups(notion, _notion_id(parent_page, "--parent-page"), configured)
        except IntegrationError as exc:
            raise click.ClickException(str(exc)) from exc
        finally:
            notion.close()
        return
    if parent_page and configured and not force:
        notion.close()
        raise click.UsageError(
            f"NOTION_POSTMORTEM_DATABASE_ID is already set ({configured}); run without "
            "--parent-page to check that database, or add --force to create another one"
        )
    try:
        if parent_page:
            page_id = _notion_id(parent_page, "--parent-page")
            database_id = setup_database(notion, page_id, severities=severities, title=title)
            click.echo(f"Created the postmortem database {database_id}.")
            click.echo(f"Configure it with: NOTION_POSTMORTEM_DATABASE_ID={database_id}")
            _create_followups(notion, page_id, database_id)
            return
        target = database or configured
        if not target:
            raise click.UsageError(
                "give --parent-page to create the database, or --database (or "
                "NOTION_POSTMORTEM_DATABASE_ID) to check an existing one"
            )
        problems = check_database(notion, _notion_id(target, "--database"))
        if followups:
            problems += [
                f"Follow-ups database: {problem}"
                for problem in check_followups_database(notion, _notion_id(followups, "--database"))
            ]
    except IntegrationError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        notion.close()
    if problems:
        click.echo(f"The database {target} does not match sevbot's postmortem schema:", err=True)
        for problem in problems:
            click.echo(f"  - {problem}", err=True)
        raise SystemExit(1)
    click.echo(f"The database {target} matches sevbot's postmortem schema.")
