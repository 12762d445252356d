"""The outbox keeps domain events as JSON: every event type survives the trip, nothing else goes."""

from __future__ import annotations

import json

import pytest

from bot.events import EVENT_TYPES, EventBus, decode_event, encode_event
from bot.incidents.events import IncidentChanged, IncidentDeclared, IncidentResolved
from bot.postmortems.events import PostmortemCompleted, PostmortemMeetingChanged

EVENTS = [
    IncidentDeclared(1),
    IncidentChanged(2, "severity", "SEV-3", "SEV-1"),
    IncidentChanged(3, "role:commander", None, "U1"),
    IncidentResolved(4),
    PostmortemMeetingChanged(5),
    PostmortemCompleted(6),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_every_event_survives_json(event: object) -> None:
    assert decode_event(json.loads(json.dumps(encode_event(event)))) == event


def test_every_event_type_is_covered() -> None:
    assert {type(e).__name__ for e in EVENTS} == set(EVENT_TYPES)


@pytest.mark.parametrize("value", [object(), IncidentDeclared, {"incident_id": 1}])
def test_only_domain_events_are_encoded(value: object) -> None:
    with pytest.raises(TypeError):
        encode_event(value)


def test_a_failing_subscriber_does_not_stop_the_others() -> None:
    bus, seen = EventBus(), []

    def broken(event: object) -> None:
        raise RuntimeError("boom")

    bus.subscribe(IncidentResolved, broken)
    bus.subscribe(IncidentResolved, seen.append)
    bus.publish(IncidentResolved(7))
    bus.publish(IncidentDeclared(8))  # nobody listens: nothing happens
    assert seen == [IncidentResolved(7)]
