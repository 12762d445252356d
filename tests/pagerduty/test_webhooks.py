"""PagerDuty V3 webhooks over real HTTP: signatures, dedupe, Declare offers, linked events."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from bot.db import session_scope, utcnow
from bot.fakes.pagerduty import sign
from bot.fakes.slack_requests import plain_text_value, static_select_value, users_select_value
from bot.incidents.models import TimelineEntry
from bot.outbox import service as outbox_service
from bot.pagerduty import webhooks
from bot.pagerduty.feature import WEBHOOK_PATH, process_inbox
from bot.pagerduty.models import PagerDutyDelivery, PagerDutyLink
from bot.slack.ids import IncidentBlock, IncidentCallback, IncidentInput, PagerDutyAction
from tests.harness import Harness, HttpServer, wait_until
from tests.pagerduty.conftest import SECRETS, SeededPagerDuty


def _post(server: HttpServer, delivery: tuple[bytes, dict[str, str]]) -> tuple[int, str]:
    body, headers = delivery
    return server.post(WEBHOOK_PATH, (body.decode(), headers))


def _deliveries(h: Harness) -> list[PagerDutyDelivery]:
    with session_scope(h.deps.session_factory) as session:
        return list(session.scalars(select(PagerDutyDelivery).order_by(PagerDutyDelivery.id)))


def _processed(h: Harness, count: int) -> list[PagerDutyDelivery]:
    """Wait until count deliveries are processed and the posts they recorded are in Slack."""

    def done() -> list[PagerDutyDelivery] | None:
        rows = _deliveries(h)
        finished = [r for r in rows if r.status == "done"]
        return rows if len(finished) >= count and _outbox_drained(h) else None

    return wait_until(done, message=f"{count} deliveries processed")


def _outbox_drained(h: Harness) -> bool:
    with session_scope(h.deps.session_factory) as session:
        pending, _ = outbox_service.backlog(session=session)
    return pending == 0


def test_bad_or_missing_signature_is_refused_without_side_effects(
    pd: Harness, fake_pd: SeededPagerDuty
) -> None:
    inc = fake_pd.state.add_incident(fake_pd.checkout, "Checkout down")
    body, headers = fake_pd.webhook("incident.triggered", inc["id"], ["wrong-secret"])
    with HttpServer(pd.bot) as server:
        assert _post(server, (body, headers))[0] == 401
        del headers["X-PagerDuty-Signature"]
        assert _post(server, (body, headers))[0] == 401
        tampered = body.replace(b"Checkout down", b"Checkout fine")
        good = sign(body, SECRETS[:1])
        assert _post(server, (tampered, {**headers, "X-PagerDuty-Signature": good}))[0] == 401
        assert server.post(WEBHOOK_PATH, ("{}", headers))[0] == 401
    assert _deliveries(pd) == []
    assert pd.slack.messages(pd.incidents_channel) == []


def test_signature_accepts_any_rotated_secret_among_several_entries() -> None:
    body = b'{"event": {}}'
    header = sign(body, ["retired"]) + "," + sign(body, ["new-secret"])
    assert webhooks.verify_signature(["new-secret", "other"], body, header)
    assert not webhooks.verify_signature(["other"], body, header)
    unversioned = "v0=" + sign(body, ["new-secret"])[3:]
    assert not webhooks.verify_signature(["new-secret"], body, unversioned)
    assert not webhooks.verify_signature([], body, header)


def test_triggered_high_urgency_posts_one_offer_and_dedupes_deliveries(
    pd: Harness, fake_pd: SeededPagerDuty
) -> None:
    inc = fake_pd.state.add_incident(
        fake_pd.checkout, "Checkout 5xx at 40% <!channel>", priority="P1"
    )
    delivery = fake_pd.webhook("incident.triggered", inc["id"], SECRETS[1:])
    low = fake_pd.state.add_incident(fake_pd.checkout, "Disk 81% full", urgency="low")
    with HttpServer(pd.bot) as server:
        assert _post(server, delivery) == (202, "accepted")
        assert _post(server, delivery) == (202, "duplicate")  # same X-Webhook-Id
        assert _post(server, fake_pd.webhook("incident.triggered", low["id"], SECRETS))[0] == 202
        assert (
            server.post(
                WEBHOOK_PATH,
                (
                    "not json",
                    {"X-PagerDuty-Signature": sign(b"not json", SECRETS), "X-Webhook-Id": "x"},
                ),
            )[0]
            == 400
        )
    rows = _processed(pd, 2)
    assert len(rows) == 2
    assert sorted(r.outcome or "" for r in rows) == ["below_threshold", "offered"]
    offers = pd.slack.messages(pd.incidents_channel)
    assert len(offers) == 1
    text = json.dumps(offers[0]["blocks"])
    assert "Checkout 5xx at 40%" in text and "checkout" in text and "Urgency: high" in text
    assert inc["html_url"] in text
    visible = offers[0]["text"] + json.dumps(offers[0]["blocks"][0])
    assert "<!channel>" not in visible and "&lt;!channel&gt;" in visible
    button = offers[0]["blocks"][1]["elements"][0]
    assert button["action_id"] == PagerDutyAction.DECLARE
    assert json.loads(button["value"])["severity"] == "SEV-1"  # P1 maps to SEV-1


def test_priority_threshold_offers_low_urgency_p2(make_bot: Any, fake_pd: SeededPagerDuty) -> None:
    h = make_bot(pagerduty_priority_threshold="P2")
    p2 = fake_pd.state.add_incident(fake_pd.checkout, "Slow search", urgency="low", priority="P2")
    p3 = fake_pd.state.add_incident(fake_pd.checkout, "Slow admin", urgency="low", priority="P3")
    with HttpServer(h.bot) as server:
        for inc in (p2, p3):
            _post(server, fake_pd.webhook("incident.triggered", inc["id"], SECRETS))
    rows = _processed(h, 2)
    assert {r.pd_incident_id: r.outcome for r in rows} == {
        p2["id"]: "offered",
        p3["id"]: "below_threshold",
    }


def _declare_from_offer(h: Harness, offer: dict[str, Any]) -> dict[str, Any]:
    button = offer["blocks"][1]["elements"][0]
    h.dispatch(
        h.signer.block_actions(
            user_id=h.bob,
            actions=[button],
            channel_id=h.incidents_channel,
            message=offer,
        )
    )
    wait_until(lambda: h.slack.calls_to("views.open"), message="declare modal opened")
    view = h.slack.calls_to("views.open")[-1]["view"]
    return json.loads(view) if isinstance(view, str) else view


def test_declare_button_prefills_modal_and_links_the_declared_incident(
    pd: Harness, fake_pd: SeededPagerDuty
) -> None:
    inc = fake_pd.state.add_incident(
        fake_pd.checkout, "Payments timing out", alerts=2, acknowledged_by=fake_pd.alice
    )
    with HttpServer(pd.bot) as server:
        _post(server, fake_pd.webhook("incident.triggered", inc["id"], SECRETS))
    _processed(pd, 1)
    offer = pd.slack.messages(pd.incidents_channel)[0]
    view = _declare_from_offer(pd, offer)
    assert view["callback_id"] == IncidentCallback.DECLARE
    blocks = {b["block_id"]: b for b in view["blocks"]}
    assert blocks[IncidentBlock.TITLE]["element"]["initial_value"] == "Payments timing out"
    assert blocks[IncidentBlock.SEVERITY]["element"]["initial_option"]["value"] == "SEV-2"  # high
    assert json.loads(view["private_metadata"])["links"] == {"pagerduty": inc["id"]}
    values = {
        IncidentBlock.TITLE: {IncidentInput.TITLE: plain_text_value("Payments timing out")},
        IncidentBlock.SEVERITY: {IncidentInput.SEVERITY: static_select_value("SEV-2")},
        IncidentBlock.COMMANDER: {IncidentInput.COMMANDER: users_select_value(pd.bob)},
    }
    pd.dispatch(
        pd.signer.view_submission(
            user_id=pd.bob,
            callback_id=IncidentCallback.DECLARE,
            values=values,
            private_metadata=view["private_metadata"],
        )
    )

    def linked() -> int | None:
        with session_scope(pd.deps.session_factory) as session:
            return session.scalar(
                select(PagerDutyLink.incident_id).where(PagerDutyLink.pd_incident_id == inc["id"])
            )

    incident_id = wait_until(linked, message="link after declare")

    def kinds() -> set[str] | None:
        with session_scope(pd.deps.session_factory) as session:
            rows = session.scalars(
                select(TimelineEntry.kind).where(TimelineEntry.incident_id == incident_id)
            )
            found = set(rows)
        return found if {"pagerduty_trigger", "pagerduty_acknowledge"} <= found else None

    wait_until(kinds, message="log entries in the timeline")
    updated = wait_until(
        lambda: "Declared as INC-1" in pd.slack.messages(pd.incidents_channel)[0]["text"]
    )
    assert updated
    # A second click no longer opens a form: the incident exists.
    pd.dispatch(
        pd.signer.block_actions(
            user_id=pd.alice,
            actions=[offer["blocks"][1]["elements"][0]],
            channel_id=pd.incidents_channel,
            message=offer,
        )
    )
    wait_until(lambda: pd.slack.ephemeral_messages(pd.incidents_channel))
    assert "already INC-1" in pd.slack.ephemeral_messages(pd.incidents_channel)[-1]["text"]


def _linked_incident(h: Harness, fake_pd: SeededPagerDuty) -> tuple[dict[str, Any], dict[str, Any]]:
    sev = h.declare()
    inc = fake_pd.state.add_incident(fake_pd.checkout, "Checkout down")
    h.command(f"link {inc['id']}", channel=sev["channel"])
    wait_until(lambda: len(h.slack.messages(sev["channel"])) >= 2, message="link summary")
    return sev, inc


def test_linked_incident_events_reach_channel_and_timeline_once(
    pd: Harness, fake_pd: SeededPagerDuty
) -> None:
    sev, inc = _linked_incident(pd, fake_pd)
    before = len(pd.slack.messages(sev["channel"]))
    agent = {"id": fake_pd.alice["id"], "type": "user_reference", "summary": "Alice Oncall"}
    events = [
        fake_pd.webhook("incident.acknowledged", inc["id"], SECRETS, agent=agent),
        fake_pd.webhook("incident.annotated", inc["id"], SECRETS, agent=agent, note="Rolled back"),
        fake_pd.webhook("incident.escalated", inc["id"], SECRETS),
        fake_pd.webhook("incident.priority_updated", inc["id"], SECRETS),
        fake_pd.webhook("incident.resolved", inc["id"], SECRETS, agent=agent),
        fake_pd.webhook("incident.reopened", inc["id"], SECRETS),
        fake_pd.webhook("incident.reassigned", inc["id"], SECRETS),
    ]
    replay_body, replay_headers = events[0]
    replay = (replay_body, {**replay_headers, "X-Webhook-Id": "redelivered-with-new-id"})
    unknown = fake_pd.state.add_incident(fake_pd.checkout, "Elsewhere")
    with HttpServer(pd.bot) as server:
        for delivery in [
            *events,
            replay,
            fake_pd.webhook("incident.acknowledged", unknown["id"], SECRETS),
        ]:
            assert _post(server, delivery)[0] == 202
    rows = _processed(pd, 9)
    outcomes = [r.outcome for r in rows]
    assert outcomes.count("posted") == 7 and "duplicate" in outcomes
    assert "unknown_incident" in outcomes
    posted = [m["text"] for m in pd.slack.messages(sev["channel"])[before:]]
    assert len(posted) == 7
    assert "acknowledged by Alice Oncall" in posted[0]
    assert "annotated by Alice Oncall: Rolled back" in posted[1]
    with session_scope(pd.deps.session_factory) as session:
        count = session.scalar(
            select(func.count())
            .select_from(TimelineEntry)
            .where(TimelineEntry.incident_id == sev["id"], TimelineEntry.kind.like("pagerduty_%ed"))
        )
    assert count >= 7


def test_stored_delivery_survives_a_restart_and_is_processed_by_the_job(
    pd: Harness, fake_pd: SeededPagerDuty
) -> None:
    inc = fake_pd.state.add_incident(fake_pd.checkout, "Checkout down")
    body, headers = fake_pd.webhook("incident.triggered", inc["id"], SECRETS)
    # As if the process died right after storing the delivery and answering 202.
    with session_scope(pd.deps.session_factory) as session:
        assert webhooks.receive_delivery(body, headers["X-Webhook-Id"], session=session)
    assert pd.slack.messages(pd.incidents_channel) == []
    assert process_inbox(pd.deps) == 1
    assert process_inbox(pd.deps) == 0
    assert len(pd.slack.messages(pd.incidents_channel)) == 1
    assert _deliveries(pd)[0].outcome == "offered"


def test_a_failed_post_is_kept_in_the_outbox_and_sent_once(
    pd: Harness, fake_pd: SeededPagerDuty
) -> None:
    inc = fake_pd.state.add_incident(fake_pd.checkout, "Checkout down")
    body, headers = fake_pd.webhook("incident.triggered", inc["id"], SECRETS)
    pd.slack.fail_method("chat.postMessage", "internal_error", times=1)
    with session_scope(pd.deps.session_factory) as session:
        webhooks.receive_delivery(body, headers["X-Webhook-Id"], session=session)
    process_inbox(pd.deps)
    # The delivery is done: the offer it decided on was recorded with it, in the outbox.
    assert _deliveries(pd)[0].status == "done"
    assert pd.slack.messages(pd.incidents_channel) == []
    assert process_inbox(pd.deps) == 0  # nothing to process again
    assert pd.deps.outbox.deliver_due().sent == 0  # backing off, not in a tight loop
    later = utcnow() + timedelta(seconds=2)
    assert pd.deps.outbox.deliver_due(now=later).sent == 1
    assert pd.deps.outbox.deliver_due(now=later + timedelta(minutes=5)).sent == 0
    assert len(pd.slack.messages(pd.incidents_channel)) == 1


def test_a_declare_link_survives_a_pagerduty_outage(pd: Harness, fake_pd: SeededPagerDuty) -> None:
    from bot.incidents.jobs import resume_incidents
    from bot.incidents.models import Incident

    inc = fake_pd.state.add_incident(fake_pd.checkout, "Cart empty")
    with HttpServer(pd.bot) as server:
        _post(server, fake_pd.webhook("incident.triggered", inc["id"], SECRETS))
    _processed(pd, 1)
    view = _declare_from_offer(pd, pd.slack.messages(pd.incidents_channel)[0])
    fake_pd.fail(f"/incidents/{inc['id']}", status=503, times=1_000)
    pd.dispatch(
        pd.signer.view_submission(
            user_id=pd.bob,
            callback_id=IncidentCallback.DECLARE,
            values={
                IncidentBlock.TITLE: {IncidentInput.TITLE: plain_text_value("Cart empty")},
                IncidentBlock.SEVERITY: {IncidentInput.SEVERITY: static_select_value("SEV-2")},
            },
            private_metadata=view["private_metadata"],
        )
    )
    pd.settle()

    def row() -> Incident:
        with session_scope(pd.deps.session_factory) as session:
            found = session.scalars(select(Incident)).one()
            session.expunge(found)
            return found

    wait_until(lambda: row().setup_done_at is not None)
    pd.settle()
    assert row().pending_links == {"pagerduty": inc["id"]}  # kept, not dropped
    fake_pd._injections.clear()
    resume_incidents(pd.deps)
    assert row().pending_links == {}
    with session_scope(pd.deps.session_factory) as session:
        assert session.scalar(select(PagerDutyLink.incident_id)) == row().id
