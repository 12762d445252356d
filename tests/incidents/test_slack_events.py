"""Events API: channel activity, pins, :pushpin: reactions, duplicates and App Home."""

from __future__ import annotations

from sqlalchemy import select

from bot.db import session_scope
from bot.incidents.models import ChannelMessage, Incident, TimelineEntry
from tests.harness import Harness, wait_until


def _messages(h: Harness, incident_id: int) -> list[tuple[str, str]]:
    h.deps.incidents.activity.flush()  # activity is group-committed after the ack
    with session_scope(h.deps.session_factory) as session:
        rows = session.scalars(
            select(ChannelMessage).where(ChannelMessage.incident_id == incident_id)
        ).all()
        return [(r.user_id, r.ts) for r in rows]


def _timeline(h: Harness, incident_id: int, kind: str) -> list[TimelineEntry]:
    with session_scope(h.deps.session_factory) as session:
        rows = session.scalars(
            select(TimelineEntry)
            .where(TimelineEntry.incident_id == incident_id, TimelineEntry.kind == kind)
            .order_by(TimelineEntry.id)
        ).all()
        session.expunge_all()
        return list(rows)


def test_human_messages_are_recorded_without_their_text(harness: Harness) -> None:
    h = harness
    inc = h.declare()
    signed = h.signer.message_event(channel=inc["channel"], user=h.bob, text="secret diagnosis")
    assert h.dispatch(signed).status == 200
    assert len(_messages(h, inc["id"])) == 1
    user, ts = _messages(h, inc["id"])[0]
    assert user == h.bob
    with session_scope(h.deps.session_factory) as session:
        row = session.get(Incident, inc["id"])
        assert row is not None and row.last_human_message_at is not None
        assert "secret diagnosis" not in repr(session.scalars(select(ChannelMessage)).all())
        assert row.last_human_message_at.timestamp() == float(ts)


def test_bot_messages_joins_and_other_channels_are_not_activity(harness: Harness) -> None:
    h = harness
    inc = h.declare()
    channel = inc["channel"]
    joined = h.signer.message_event(
        channel=channel, user=h.carol, text="joined", subtype="channel_join"
    )
    h.dispatch(joined)
    bot_event = {
        "type": "message",
        "channel": channel,
        "bot_id": "B0001",
        "user": h.slack.bot_user_id,
        "text": "kickoff",
        "ts": "1790000000.000100",
    }
    h.dispatch(h.signer.event(bot_event))
    h.dispatch(h.signer.message_event(channel=h.general, user=h.bob, text="lunch?"))
    assert _messages(h, inc["id"]) == []


def test_duplicate_delivery_is_processed_once(harness: Harness) -> None:
    h = harness
    inc = h.declare()
    message = {"channel": inc["channel"], "user": h.bob, "text": "hi", "ts": "1790000001.000100"}
    first = h.signer.message_event(**message, event_id="Ev0MESSAGE")
    retry = h.signer.message_event(**message, event_id="Ev0MESSAGE", retry_num=1)
    assert h.dispatch(first).status == 200
    assert h.dispatch(retry).status == 200
    assert len(_messages(h, inc["id"])) == 1
    home = {"type": "app_home_opened", "user": h.bob, "tab": "home"}
    h.dispatch(h.signer.event(home, event_id="Ev0HOME"))
    h.dispatch(h.signer.event(home, event_id="Ev0HOME", retry_num=1))
    h.dispatch(h.signer.event(home, event_id="Ev0HOME", retry_num=2))
    h.settle()
    wait_until(lambda: h.slack.calls_to("views.publish"))
    assert len(h.slack.calls_to("views.publish")) == 1


def test_pins_and_pushpins_enter_the_timeline_once(harness: Harness) -> None:
    h = harness
    inc = h.declare()
    channel = inc["channel"]
    ts = h.slack.add_message(channel, h.bob, "Root cause: expired cert")
    pin = {
        "type": "pin_added",
        "user": h.alice,
        "channel_id": channel,
        "item": {
            "type": "message",
            "channel": channel,
            "message": {
                "type": "message",
                "user": h.bob,
                "text": "Root cause: expired cert",
                "ts": ts,
            },
        },
        "event_ts": ts,
    }
    h.dispatch(h.signer.event(pin))
    h.dispatch(h.signer.event(pin))  # a second delivery with a new event id
    entries = wait_until(lambda: _timeline(h, inc["id"], "pin"))
    other = h.slack.add_message(channel, h.carol, "Customer impact: EU only")
    reaction = {
        "type": "reaction_added",
        "user": h.alice,
        "reaction": "pushpin",
        "item": {"type": "message", "channel": channel, "ts": other},
        "item_user": h.carol,
        "event_ts": other,
    }
    h.dispatch(h.signer.event({**reaction, "reaction": "eyes"}))
    h.dispatch(h.signer.event(reaction))
    pushpins = wait_until(lambda: _timeline(h, inc["id"], "pushpin"))
    h.settle()
    assert len(_timeline(h, inc["id"], "pin")) == 1
    assert entries[0].text == "Root cause: expired cert" and entries[0].permalink
    assert pushpins[0].text == "Customer impact: EU only" and pushpins[0].actor_id == h.carol
    assert len(_timeline(h, inc["id"], "pushpin")) == 1


def test_the_bots_own_kickoff_pin_is_not_a_timeline_event(harness: Harness) -> None:
    h = harness
    inc = h.declare()
    kickoff = h.slack.messages(inc["channel"])[0]
    pin = {
        "type": "pin_added",
        "user": h.slack.bot_user_id,
        "channel_id": inc["channel"],
        "item": {"type": "message", "channel": inc["channel"], "message": kickoff},
        "event_ts": kickoff["ts"],
    }
    h.dispatch(h.signer.event(pin))
    h.settle()
    assert _timeline(h, inc["id"], "pin") == []


def test_app_home_lists_active_incidents(harness: Harness) -> None:
    h = harness
    h.declare("declare sev1 Login broken")
    h.dispatch(h.signer.event({"type": "app_home_opened", "user": h.bob, "tab": "home"}))
    view = wait_until(lambda: h.slack.home_view(h.bob))
    text = str(view)
    assert "Login broken" in text and "SEV-1" in text and "investigating" in text


def test_activity_lost_in_a_crash_is_recovered_from_history(harness: Harness) -> None:
    """Messages posted while the bot was down (or queued when it crashed) are caught up."""
    from bot.incidents.jobs import reconcile_activity

    h = harness
    inc = h.declare()
    first = h.slack.add_message(inc["channel"], h.bob, "anyone?")
    last = h.slack.add_message(inc["channel"], h.carol, "I'm on it")
    h.slack.add_message(h.general, h.bob, "not an incident channel")
    assert reconcile_activity(h.deps) == 2
    assert sorted(_messages(h, inc["id"])) == sorted([(h.bob, first), (h.carol, last)])
    with session_scope(h.deps.session_factory) as session:
        row = session.get(Incident, inc["id"])
        assert row is not None and row.last_human_message_at is not None
        assert row.last_human_message_at.timestamp() == float(last)
    assert reconcile_activity(h.deps) == 2  # idempotent: still one row per message
    assert len(_messages(h, inc["id"])) == 2


def test_a_pushpin_is_kept_when_slack_cannot_read_the_message(harness: Harness) -> None:
    h = harness
    inc = h.declare()
    channel = inc["channel"]
    ts = h.slack.add_message(channel, h.bob, "Rolled back at 10:02")
    h.slack.fail_method("conversations.history", "internal_error", times=10)
    h.slack.fail_method("chat.getPermalink", "internal_error", times=10)
    reaction = {
        "type": "reaction_added",
        "user": h.alice,
        "reaction": "pushpin",
        "item": {"type": "message", "channel": channel, "ts": ts},
        "item_user": h.bob,
        "event_ts": ts,
    }
    h.dispatch(h.signer.event(reaction))
    [entry] = wait_until(lambda: _timeline(h, inc["id"], "pushpin"))
    assert entry.permalink is None and "could not be read" in entry.text
