"""`sevbot notion-setup`: create the database with the exact schema, check existing ones."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.fakes.notion import FakeNotion
from bot.postmortems import feature
from bot.postmortems.cli import notion_setup
from bot.postmortems.setup import SCHEMA


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, fake_notion: FakeNotion) -> None:
    monkeypatch.setenv("NOTION_TOKEN", fake_notion.token)
    monkeypatch.setenv("NOTION_API_URL", fake_notion.base_url)


def test_sevbot_exposes_the_command(cli_env: None) -> None:
    assert [command.name for command in feature.commands] == ["notion-setup"]
    result = CliRunner().invoke(main, ["notion-setup", "--parent-page", "nope"])
    assert result.exit_code == 2 and "expected a Notion id" in result.output


def test_creates_the_database_under_a_page_url_and_prints_its_id(
    cli_env: None, fake_notion: FakeNotion
) -> None:
    parent = fake_notion.add_page("Engineering")
    url = f"https://www.notion.so/acme/Engineering-{parent.replace('-', '')}?pvs=4"

    result = CliRunner().invoke(notion_setup, ["--parent-page", url])

    assert result.exit_code == 0, result.output
    by_title = {d["title"][0]["text"]["content"]: d for d in fake_notion.databases.values()}
    assert sorted(by_title) == ["Follow-ups", "Postmortems"]
    database, followups = by_title["Postmortems"], by_title["Follow-ups"]
    assert f"NOTION_POSTMORTEM_DATABASE_ID={database['id']}" in result.output
    assert f"NOTION_FOLLOWUPS_DATABASE_ID={followups['id']}" in result.output
    assert followups["parent"]["page_id"] == parent
    fsource = fake_notion.data_sources[fake_notion.data_source_of(followups["id"]).replace("-", "")]
    assert {n: p["type"] for n, p in fsource["properties"].items()} == {
        "Name": "title", "Owner": "people", "Due": "date", "Status": "select",
        "Ticket": "url", "Incident": "relation",
    }  # fmt: skip
    relation = fsource["properties"]["Incident"]["relation"]
    assert relation["data_source_id"] == fake_notion.data_source_of(database["id"])
    assert database["parent"]["page_id"] == parent
    source = fake_notion.data_sources[fake_notion.data_source_of(database["id"]).replace("-", "")]
    types = {name: prop["type"] for name, prop in source["properties"].items()}
    assert types == {
        "Title": "title", "Incident": "number", "Severity": "select", "Status": "select",
        "Owner": "people", "Declared": "date", "Resolved": "date", "Duration": "number",
        "Slack channel": "url", "PagerDuty": "url", "Meeting": "date",
    }  # fmt: skip
    statuses = [o["name"] for o in source["properties"]["Status"]["select"]["options"]]
    assert statuses == ["Draft", "In review", "Complete"]
    severities = [o["name"] for o in source["properties"]["Severity"]["select"]["options"]]
    assert severities == ["SEV-1", "SEV-2", "SEV-3", "SEV-4", "SEV-5"]

    check = CliRunner().invoke(notion_setup, ["--database", database["id"]])
    assert check.exit_code == 0 and "matches" in check.output


def test_checking_an_existing_database_reports_missing_and_wrong_types(
    cli_env: None, fake_notion: FakeNotion
) -> None:
    schema = {name: config for name, config in SCHEMA.items() if name != "Meeting"}
    schema["Duration"] = {"rich_text": {}}
    schema.pop("Title")
    schema["Name"] = {"title": {}}
    database = fake_notion.add_database(schema)

    result = CliRunner().invoke(notion_setup, ["--database", database])

    assert result.exit_code == 1
    assert "property 'Meeting' is missing; add it with type date" in result.output
    assert "property 'Duration' has type rich_text; change it to number" in result.output
    assert "the title property is named 'Name'; rename it to 'Title'" in result.output
    assert len(fake_notion.databases) == 1  # checking changes nothing


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--parent-page", "not-a-page"], "expected a Notion id"),
        ([], "give --parent-page"),
        (["--parent-page", "a" * 32, "--database", "b" * 32], "not both"),
        (["--parent-page", "a" * 32], "share the page or database with the integration"),
        (["--database", "b" * 32], "cannot find the postmortem database"),
    ],
)
def test_bad_input_exits_non_zero_with_a_reason(
    cli_env: None, fake_notion: FakeNotion, args: list[str], reason: str
) -> None:
    result = CliRunner().invoke(notion_setup, [*args])
    assert result.exit_code != 0
    assert reason in result.output
    assert fake_notion.databases == {}


def test_without_a_token_it_says_how_to_get_one(fake_notion: FakeNotion) -> None:
    result = CliRunner().invoke(notion_setup, ["--parent-page", fake_notion.add_page()])
    assert result.exit_code != 0 and "NOTION_TOKEN is not set" in result.output


def test_rerunning_setup_with_a_configured_database_does_not_create_another(
    cli_env: None, fake_notion: FakeNotion, monkeypatch: pytest.MonkeyPatch
) -> None:
    parent = fake_notion.add_page("Engineering")
    first = CliRunner().invoke(notion_setup, ["--parent-page", parent])
    assert first.exit_code == 0, first.output
    by_title = {d["title"][0]["text"]["content"]: d for d in fake_notion.databases.values()}
    monkeypatch.setenv("NOTION_POSTMORTEM_DATABASE_ID", by_title["Postmortems"]["id"])
    monkeypatch.setenv("NOTION_FOLLOWUPS_DATABASE_ID", by_title["Follow-ups"]["id"])
    again = CliRunner().invoke(notion_setup, ["--parent-page", parent])
    assert again.exit_code == 2 and "already set" in again.output
    assert len(fake_notion.databases) == 2
    forced = CliRunner().invoke(notion_setup, ["--parent-page", parent, "--force"])
    assert forced.exit_code == 0 and len(fake_notion.databases) == 4


def test_adds_and_checks_the_follow_ups_database_next_to_configured_postmortems(
    cli_env: None, fake_notion: FakeNotion, monkeypatch: pytest.MonkeyPatch
) -> None:
    postmortems = fake_notion.add_database(SCHEMA)
    monkeypatch.setenv("NOTION_POSTMORTEM_DATABASE_ID", postmortems)
    parent = fake_notion.add_page("Engineering")

    result = CliRunner().invoke(notion_setup, ["--parent-page", parent])

    assert result.exit_code == 0, result.output
    [followups] = [d for d in fake_notion.databases.values() if d["id"] != postmortems]
    assert f"NOTION_FOLLOWUPS_DATABASE_ID={followups['id']}" in result.output
    monkeypatch.setenv("NOTION_FOLLOWUPS_DATABASE_ID", followups["id"])
    check = CliRunner().invoke(notion_setup, [])
    assert check.exit_code == 0 and "matches" in check.output, check.output
    broken = fake_notion.add_database({"Name": {"title": {}}, "Due": {"rich_text": {}}})
    monkeypatch.setenv("NOTION_FOLLOWUPS_DATABASE_ID", broken)
    check = CliRunner().invoke(notion_setup, [])
    assert check.exit_code == 1
    assert "Follow-ups database: property 'Due' has type rich_text; change it to date" in (
        check.output
    )
    assert "property 'Incident' is missing; add it with type relation" in check.output
