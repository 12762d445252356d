"""Assigning a role brings the person into the channel, and says so."""

from __future__ import annotations

import json

from bot.db import session_scope
from bot.incidents.models import Incident
from tests.harness import Harness, wait_until


def _members(h: Harness, channel: str) -> list[str]:
    return list(h.slack.channel(channel)["members"])


def test_assigning_a_role_invites_someone_who_is_not_a_member(harness: Harness) -> None:
    h = harness
    inc = h.declare()
    assert h.carol not in _members(h, inc["channel"])
    response = h.command(f"role comms <@{h.carol}>", channel=inc["channel"])
    assert response.status == 200
    wait_until(lambda: h.carol in _members(h, inc["channel"]), message="carol invited")
    wait_until(
        lambda: any(
            f"added <@{h.carol}> to the channel as comms" in (m.get("text") or "")
            for m in h.slack.messages(inc["channel"])
        ),
        message="the channel is told",
    )
    with session_scope(h.deps.session_factory) as session:
        row = session.get(Incident, inc["id"])
        assert row is not None and row.comms_id == h.carol


def test_a_member_gets_the_role_without_a_second_invite(harness: Harness) -> None:
    h = harness
    inc = h.declare()  # alice declared; she is a member
    h.command(f"role scribe <@{h.bob}>", channel=inc["channel"])
    wait_until(lambda: h.bob in _members(h, inc["channel"]))
    h.settle()
    invites = len(h.slack.calls_to("conversations.invite"))
    h.command(f"role commander <@{h.bob}>", channel=inc["channel"])
    h.settle()
    assert len(h.slack.calls_to("conversations.invite")) == invites
    told = [
        m for m in h.slack.messages(inc["channel"]) if "to the channel as" in (m.get("text") or "")
    ]
    assert len(told) == 1  # only the first assignment brought bob in


def test_a_user_slack_refuses_keeps_the_role_and_the_assigner_is_told(harness: Harness) -> None:
    h = harness
    inc = h.declare()
    gone = h.slack.add_user("gone", email="gone@example.com")
    h.slack.deactivate_user(gone)
    response = h.command(f"role comms <@{gone}>", channel=inc["channel"])
    assert response.status == 200
    wait_until(
        lambda: any(
            "would not add them" in json.dumps(c)
            for c in h.slack.calls_to("chat.postEphemeral")
            if c.get("user") == h.alice
        ),
        message="ephemeral to the assigner",
    )
    with session_scope(h.deps.session_factory) as session:
        row = session.get(Incident, inc["id"])
        assert row is not None and row.comms_id == gone
    assert gone not in _members(h, inc["channel"])
