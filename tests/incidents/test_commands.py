"""Running an incident with /incident subcommands, through the real Bolt app and fake Slack."""

from __future__ import annotations

import json
from typing import Any

from bot.db import session_scope
from bot.incidents.models import Incident, TimelineEntry
from tests.harness import Harness, wait_until


def _row(h: Harness, incident_id: int) -> Incident:
    with session_scope(h.deps.session_factory) as session:
        row = session.get(Incident, incident_id)
        assert row is not None
        return row


def _timeline(h: Harness, incident_id: int) -> list[tuple[str, str]]:
    with session_scope(h.deps.session_factory) as session:
        entries = (
            session.query(TimelineEntry)
            .filter_by(incident_id=incident_id)
            .order_by(TimelineEntry.id)
            .all()
        )
        return [(e.kind, e.text) for e in entries]


def _announcement(h: Harness, row: Incident) -> dict[str, Any]:
    return next(m for m in h.slack.messages(h.incidents_channel) if m["ts"] == row.announcement_ts)


def _ephemeral(response: Any) -> str:
    body = json.loads(response.body)
    assert body.get("response_type") == "ephemeral", body
    return str(body["text"])


def test_update_posts_in_channel_and_announcement_thread(harness: Harness) -> None:
    h = harness
    inc = h.declare()
    response = h.command("update Rolled back <!here> the deploy", channel=inc["channel"])
    assert response.status == 200

    def update_posts() -> list[dict[str, Any]]:
        return [
            c
            for c in h.slack.calls_to("chat.postMessage")
            if "Rolled back" in json.dumps(c.get("blocks") or c.get("text"))
        ]

    wait_until(lambda: len(update_posts()) == 2)
    posted = update_posts()
    row = _row(h, inc["id"])
    targets = {(c["channel"], c.get("thread_ts")) for c in posted}
    assert targets == {(inc["channel"], None), (h.incidents_channel, row.announcement_ts)}
    assert all("<!here>" not in json.dumps(c) for c in posted)
    assert row.last_update_at is not None
    assert ("update", "Rolled back <!here> the deploy") in _timeline(h, inc["id"])


def test_severity_status_and_role_changes_edit_the_announcement(harness: Harness) -> None:
    h = harness
    inc = h.declare("declare sev3 Search is slow")
    channel = inc["channel"]
    assert h.command("sev 1", channel=channel).status == 200
    wait_until(lambda: "SEV-1" in json.dumps(_announcement(h, _row(h, inc["id"]))))
    assert h.command("status identified", channel=channel).status == 200
    wait_until(lambda: "identified" in json.dumps(_announcement(h, _row(h, inc["id"]))))
    assert h.command(f"role commander <@{h.bob}|bob>", channel=channel).status == 200
    wait_until(lambda: h.bob in json.dumps(_announcement(h, _row(h, inc["id"]))))
    row = _row(h, inc["id"])
    assert (row.severity, row.status, row.commander_id) == ("SEV-1", "identified", h.bob)
    wait_until(lambda: h.slack.channel(channel)["topic"]["value"].startswith("SEV-1 · identified"))
    kinds = [kind for kind, _ in _timeline(h, inc["id"])]
    assert kinds[-3:] == ["severity", "status", "role"]
    texts = [str(m.get("text")) for m in h.slack.messages(channel)]
    for stated in ("Severity changed from SEV-3 to SEV-1", "Status changed from investigating"):
        assert any(stated in text for text in texts), f"{stated!r} is stated in the channel"
    assert any(f"Commander is now <@{h.bob}>" in text for text in texts)
    assert len(h.slack.calls_to("chat.update")) >= 3


def test_resolve_posts_summary_and_reopen(harness: Harness) -> None:
    h = harness
    inc = h.declare("declare sev2 Checkout errors")
    channel = inc["channel"]
    h.command("sev 1", channel=channel)
    h.command(f"role comms <@{h.carol}>", channel=channel)
    assert h.command("resolve Bad config rolled back", channel=channel).status == 200
    summary = wait_until(
        lambda: [m for m in h.slack.messages(channel) if "Highest severity" in json.dumps(m)]
    )
    text = json.dumps(summary[-1])
    assert "SEV-1" in text and h.carol in text
    row = _row(h, inc["id"])
    assert row.status == "resolved" and row.resolved_at is not None
    assert row.summary == "Bad config rolled back"
    wait_until(lambda: "resolved" in h.slack.channel(channel)["topic"]["value"])
    wait_until(lambda: "resolved" in json.dumps(_announcement(h, _row(h, inc["id"]))))
    assert "already resolved" in _ephemeral(h.command("resolve", channel=channel))
    assert "Use `/incident reopen` first" in _ephemeral(
        h.command("status monitoring", channel=channel)
    )
    assert h.command("reopen", channel=channel).status == 200
    row = _row(h, inc["id"])
    assert row.status == "investigating" and row.resolved_at is None
    assert "is not resolved" in _ephemeral(h.command("reopen", channel=channel))


def test_status_resolved_is_a_resolve(harness: Harness) -> None:
    h = harness
    inc = h.declare()
    h.command("status resolved", channel=inc["channel"])
    assert _row(h, inc["id"]).resolved_at is not None


def test_list_and_help(harness: Harness) -> None:
    h = harness
    first = h.declare("declare sev2 API down")
    h.declare("declare sev4 Slow reports")
    h.command("resolve", channel=first["channel"])
    body = json.loads(h.command("list").body)
    assert body["text"] == "1 active incidents"
    listing = json.dumps(body["blocks"])
    assert "Slow reports" in listing and "API down" not in listing
    help_text = _ephemeral(h.command("help"))
    for sub in ("declare", "update", "sev", "status", "role", "resolve", "reopen", "list"):
        assert f"/incident {sub}" in help_text


def test_bad_input_in_an_incident_channel_changes_nothing(harness: Harness) -> None:
    h = harness
    inc = h.declare("declare sev3 Disk full")
    channel = inc["channel"]
    before = _timeline(h, inc["id"])
    updates_before = len(h.slack.calls_to("chat.update"))
    cases = {
        "sev": "Which severity?",
        "sev 9": "is not a severity",
        "sev 3": "already SEV-3",
        "status": "Which status?",
        "status sleeping": "is not a status",
        "role": "Usage: `/incident role",
        "role chef <@UBOB>": "is not a role",
        "role comms bob": "Usage: `/incident role",
        "update": "Please write the update",
    }
    for text, expected in cases.items():
        assert expected in _ephemeral(h.command(text, channel=channel)), text
    row = _row(h, inc["id"])
    assert (row.severity, row.status, row.comms_id) == ("SEV-3", "investigating", None)
    assert _timeline(h, inc["id"]) == before
    assert len(h.slack.calls_to("chat.update")) == updates_before
    for text in ("sev 1", "status identified", "resolve", "reopen", f"role comms <@{h.bob}>"):
        assert "only works in an incident channel" in _ephemeral(h.command(text))


def test_command_text_is_read_as_slack_escapes_it(harness: Harness) -> None:
    h = harness
    # Slack sends "&", "<" and ">" typed by people as entities when escaping is on.
    inc = h.declare("declare sev2 R&amp;D build farm &lt;eu&gt; down")
    row = _row(h, inc["id"])
    assert row.title == "R&D build farm <eu> down"
    assert h.slack.channel(inc["channel"])["name"] == "inc-1-r-d-build-farm-eu-down"
    blocks = h.slack.messages(inc["channel"])[0]["blocks"]
    assert blocks[0]["text"]["text"] == "INC-1: R&D build farm <eu> down"  # plain_text header
    assert "&amp;amp;" not in json.dumps(blocks)


def test_a_leading_number_is_part_of_the_title_and_newlines_separate_words(
    harness: Harness,
) -> None:
    h = harness
    inc = h.declare("declare 3 nodes lost in eu-west")
    row = _row(h, inc["id"])
    assert (row.title, row.severity) == ("3 nodes lost in eu-west", "SEV-3")
    assert h.command("update\nRolled back", channel=inc["channel"]).status == 200
    wait_until(lambda: ("update", "Rolled back") in _timeline(h, inc["id"]))


def test_a_deleted_announcement_does_not_block_the_sync_forever(harness: Harness) -> None:
    from bot.incidents.jobs import resume_incidents

    h = harness
    inc = h.declare()
    h.slack.fail_method("chat.update", "message_not_found", times=100)
    assert h.command("sev 1", channel=inc["channel"]).status == 200
    wait_until(lambda: h.slack.channel(inc["channel"])["topic"]["value"].startswith("SEV-1"))
    wait_until(lambda: _row(h, inc["id"]).synced_revision == _row(h, inc["id"]).revision)
    calls = len(h.slack.calls_to("conversations.setTopic"))
    assert resume_incidents(h.deps) == 0  # nothing left to retry
    assert len(h.slack.calls_to("conversations.setTopic")) == calls
