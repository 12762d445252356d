"""`/incident help` lists every feature's subcommands, in the order they are registered."""

from __future__ import annotations

import json

from tests.harness import Harness

ORDER = [
    *("declare", "update", "sev", "status", "role", "resolve", "reopen", "list", "help"),
    *("link", "alerts", "oncall", "page"),  # PagerDuty
    *("schedule", "postmortem"),  # nudges (the meeting), then the postmortem itself
    *("followup", "followups"),
]


def test_help_lists_every_subcommand_in_order(harness: Harness) -> None:
    text = json.loads(harness.command("help").body)["text"]
    lines = [line for line in text.splitlines() if line.startswith("• `/incident ")]
    assert [line.split()[2].rstrip("`") for line in lines] == ORDER
