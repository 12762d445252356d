"""Postmortem completion nudges, their escalation, and /incident postmortem done."""

from __future__ import annotations

import json
from typing import Any

from bot.db import session_scope
from bot.postmortems import service as postmortems
from bot.postmortems.events import PostmortemCompleted
from tests.harness import Harness
from tests.nudges.conftest import Clock, deliveries, dm_channel, nudge_messages, run, wait_for


def _resolved(h: Harness) -> dict[str, Any]:
    inc = h.declare()
    assert h.command("resolve Fixed", channel=inc["channel"]).status == 200
    wait_for(lambda: any("Resolved" in m["text"] for m in h.slack.messages(inc["channel"])))
    return inc


def _reply(response: Any) -> str:
    return str(json.loads(response.body or "{}").get("text", ""))


def test_owner_is_nudged_then_managers_until_done(nh: Harness, clock: Clock) -> None:
    h = nh
    inc = _resolved(h)
    resolved = clock.now
    clock.at(resolved, days=1, hours=23, minutes=59)
    run(h.deps)
    assert deliveries(h, "complete") == []
    for day in (2, 4, 6):
        clock.at(resolved, days=day)
        run(h.deps)
    dm = dm_channel(h, h.alice)
    assert dm is not None
    owner_nudges = [m for m in nudge_messages(h, dm) if "is not complete yet" in m["text"]]
    assert len(owner_nudges) == 3 and "`/incident postmortem done`" in owner_nudges[0]["text"]
    assert nudge_messages(h, "managers") == []
    clock.at(resolved, days=8)
    run(h.deps)
    [note] = nudge_messages(h, "managers")
    assert "INC-1" in note["text"] and f"<@{h.alice}>" in note["text"]
    assert "3 reminders" in note["text"]
    assert len([m for m in nudge_messages(h, dm) if "is not complete" in m["text"]]) == 3
    seen: list[object] = []
    h.deps.bus.subscribe(PostmortemCompleted, seen.append)
    assert h.command("postmortem done", channel=inc["channel"]).status == 200
    wait_for(lambda: seen == [PostmortemCompleted(inc["id"])])
    wait_for(
        lambda: "marked the postmortem complete" in h.slack.messages(inc["channel"])[-1]["text"]
    )
    with session_scope(h.deps.session_factory) as session:
        found = postmortems.get(inc["id"], session=session)
        assert found is not None and found.status == "Complete" and found.completed_via == "slack"
    assert "already complete" in _reply(h.command("postmortem done", channel=inc["channel"]))
    clock.at(resolved, days=20)
    run(h.deps)
    assert len(deliveries(h, "complete")) == 4


def test_complete_status_from_notion_stops_nudges(nh: Harness, clock: Clock) -> None:
    h = nh
    inc = _resolved(h)
    resolved = clock.now
    clock.at(resolved, days=2)
    run(h.deps)
    with session_scope(h.deps.session_factory) as session:
        postmortems.mark_complete(inc["id"], session=session, source="notion")
    clock.at(resolved, days=4)
    run(h.deps)
    assert len(deliveries(h, "complete")) == 1
    assert len(deliveries(h, "schedule")) == 1  # a complete postmortem needs no meeting either


def test_postmortem_subcommand_outside_done(nh: Harness, clock: Clock) -> None:
    h = nh
    inc = h.declare()
    assert "only works in an incident channel" in _reply(
        h.command("postmortem done", channel=h.general)
    )
    reply = _reply(h.command("postmortem", channel=inc["channel"]))
    assert "Creating the postmortem document" in reply  # handed to the postmortems feature
    assert "postmortem" in h.deps.router.help_text()
