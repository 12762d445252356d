"""/incident link|alerts|oncall|page and resolve-in-PagerDuty, through Bolt and the real client."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from bot.db import session_scope
from bot.incidents.models import TimelineEntry
from bot.pagerduty.models import PagerDutyLink
from bot.slack.ids import PagerDutyAction
from tests.harness import Harness, wait_until
from tests.pagerduty.conftest import SeededPagerDuty


def _reply(response: Any) -> str:
    return str(json.loads(response.body or "{}").get("text", ""))


def _ephemeral(h: Harness, channel: str, count: int = 1) -> str:
    messages = wait_until(
        lambda: (m := h.slack.ephemeral_messages(channel)) and len(m) >= count and m,
        message="ephemeral reply",
    )
    return str(messages[-1]["text"])


def _pd_timeline(h: Harness, incident_id: int) -> list[str]:
    with session_scope(h.deps.session_factory) as session:
        return list(
            session.scalars(
                select(TimelineEntry.dedupe_key).where(
                    TimelineEntry.incident_id == incident_id,
                    TimelineEntry.kind.like("pagerduty_%"),
                )
            )
        )


def test_commands_say_pagerduty_is_off_without_a_token(harness: Harness) -> None:
    sev = harness.declare()
    for text in ("link Q123", "alerts", "oncall", "page checkout"):
        reply = _reply(harness.command(text, channel=sev["channel"]))
        assert "PAGERDUTY_API_TOKEN" in reply, text
    assert "/pagerduty/webhook" not in harness.bot.web.routes


def test_buttons_without_a_token_say_so_or_need_no_pagerduty(harness: Harness) -> None:
    h = harness
    declare = {
        "type": "button",
        "action_id": PagerDutyAction.DECLARE,
        "value": json.dumps({"pd_incident_id": "Q1ABCDEF", "severity": "SEV-2", "title": "x"}),
    }
    assert (
        h.dispatch(
            h.signer.block_actions(user_id=h.bob, actions=[declare], channel_id=h.general)
        ).status
        == 200
    )
    assert "PAGERDUTY_API_TOKEN" in _ephemeral(h, h.general)
    assert not h.slack.calls_to("views.open")
    sev = h.declare()
    invite = {"type": "button", "action_id": PagerDutyAction.INVITE_ONCALL, "value": h.bob}
    h.dispatch(h.signer.block_actions(user_id=h.alice, actions=[invite], channel_id=sev["channel"]))
    wait_until(lambda: "invited the on-call" in h.slack.messages(sev["channel"])[-1]["text"])


def test_link_rejects_bad_input_before_calling_pagerduty(
    pd: Harness, fake_pd: SeededPagerDuty
) -> None:
    sev = pd.declare()
    assert "incident's channel" in _reply(pd.command("link Q123", channel=pd.general))
    assert "not a PagerDuty incident" in _reply(
        pd.command("link not/an id!", channel=sev["channel"])
    )
    assert "not a PagerDuty incident" in _reply(pd.command("link", channel=sev["channel"]))
    assert "No PagerDuty incident is linked" in _reply(pd.command("alerts", channel=sev["channel"]))
    assert "Which service" in _reply(pd.command("page", channel=sev["channel"]))
    assert fake_pd.calls() == []
    pd.command("link QNOSUCH1", channel=sev["channel"])
    assert "PagerDuty has no incident" in _ephemeral(pd, sev["channel"])


def test_link_by_url_pulls_all_alert_pages_and_log_entries_once(
    pd: Harness, fake_pd: SeededPagerDuty
) -> None:
    sev = pd.declare()
    inc = fake_pd.state.add_incident(
        fake_pd.checkout,
        "Checkout 5xx",
        alerts=150,
        acknowledged_by=fake_pd.alice,
        escalated=True,
    )
    before = len(pd.slack.messages(sev["channel"]))
    reply = _reply(pd.command(f"link {inc['html_url']}", channel=sev["channel"]))
    assert f"Linking PagerDuty incident {inc['id']}" in reply
    summary = wait_until(lambda: pd.slack.messages(sev["channel"])[before:], message="summary")[0]
    text = json.dumps(summary["blocks"])
    assert "*Alerts:* 150 (150 triggered)" in text
    assert "Acknowledged by:* Alice Oncall (after 4m)" in text
    assert len(fake_pd.calls(f"/incidents/{inc['id']}/alerts")) == 2  # 100 + 50
    keys = sorted(_pd_timeline(pd, sev["id"]))
    assert len(keys) == 3  # trigger, escalate, acknowledge (notify is not kept)
    with session_scope(pd.deps.session_factory) as session:
        assert session.scalar(select(func.count()).select_from(PagerDutyLink)) == 1
    # /incident alerts pulls again: a fresh summary, no duplicate timeline entries.
    fake_pd.state.add_log_entry(
        inc["id"], "resolve", at=datetime.now(UTC), text="Resolved by Alice."
    )
    pd.command("alerts", channel=sev["channel"])
    wait_until(lambda: len(pd.slack.messages(sev["channel"])) == before + 2, message="2nd summary")
    wait_until(lambda: len(_pd_timeline(pd, sev["id"])) == 4, message="resolve entry added")
    # Linking the same PagerDuty incident from another SEV is refused.
    other = pd.declare("declare sev3 Something else")
    pd.command(f"link {inc['id']}", channel=other["channel"])
    assert "already linked" in _ephemeral(pd, other["channel"])


def test_oncall_maps_users_by_email_and_invites_them(pd: Harness, fake_pd: SeededPagerDuty) -> None:
    sev = pd.declare()
    assert pd.command("oncall checkout", channel=sev["channel"]).status == 200
    text = _ephemeral(pd, sev["channel"])
    message = pd.slack.ephemeral_messages(sev["channel"])[-1]
    body = json.dumps(message["blocks"])
    assert f"<@{pd.alice}>" in body and "Dave Nobody (not found in Slack)" in body
    assert "checkout policy, level 1" in body and "Primary" in body
    assert "On call now for checkout" in text
    assert fake_pd.calls("/oncalls")[0].query["escalation_policy_ids[]"]
    button = message["blocks"][1]["elements"][0]
    assert button["action_id"] == PagerDutyAction.INVITE_ONCALL and button["value"] == pd.alice
    pd.dispatch(
        pd.signer.block_actions(user_id=pd.bob, actions=[button], channel_id=sev["channel"])
    )
    wait_until(lambda: pd.slack.calls_to("conversations.invite")[-1:], message="invite")
    wait_until(lambda: "invited the on-call" in pd.slack.messages(sev["channel"])[-1]["text"])
    pd.command("oncall no-such-team", channel=sev["channel"])
    assert "no PagerDuty service or escalation policy" in _ephemeral(pd, sev["channel"], 2)


def test_page_creates_an_incident_with_the_channel_link_and_links_it(
    pd: Harness, fake_pd: SeededPagerDuty
) -> None:
    sev = pd.declare()
    assert "Paging checkout" in _reply(pd.command("page checkout", channel=sev["channel"]))
    post = wait_until(lambda: [c for c in fake_pd.calls("/incidents") if c.method == "POST"])[0]
    assert post.headers["from"] == "alice@example.com"
    created = post.json()["incident"]
    assert created["service"]["id"] == fake_pd.checkout["id"]
    assert sev["channel"] in created["body"]["details"] and "INC-1" in created["title"]
    wait_until(lambda: "Paged *checkout*" in pd.slack.messages(sev["channel"])[-1]["text"])
    with session_scope(pd.deps.session_factory) as session:
        link = session.scalars(select(PagerDutyLink)).one()
    assert link.incident_id == sev["id"] and link.service_name == "checkout"
    pd.command("page nosuchservice", channel=sev["channel"])
    assert "no service named 'nosuchservice'" in _ephemeral(pd, sev["channel"])


def test_page_without_from_email_is_refused(make_bot: Any, fake_pd: SeededPagerDuty) -> None:
    h = make_bot(pagerduty_from_email=None)
    sev = h.declare()
    assert "PAGERDUTY_FROM_EMAIL" in _reply(h.command("page checkout", channel=sev["channel"]))


def test_resolving_in_slack_resolves_linked_pagerduty_incidents(
    make_bot: Any, fake_pd: SeededPagerDuty
) -> None:
    h = make_bot(resolve_pagerduty_on_resolve=True)
    sev = h.declare()
    inc = fake_pd.state.add_incident(fake_pd.checkout, "Checkout down")
    h.command(f"link {inc['id']}", channel=sev["channel"])
    wait_until(lambda: _pd_timeline(h, sev["id"]), message="linked")
    h.command("resolve Rolled back", channel=sev["channel"])
    wait_until(
        lambda: fake_pd.state.incidents[inc["id"]]["status"] == "resolved", message="PD resolved"
    )
    put = [c for c in fake_pd.calls(f"/incidents/{inc['id']}") if c.method == "PUT"][0]
    assert put.json()["incident"]["status"] == "resolved"


def test_pagerduty_errors_become_clear_messages(pd: Harness, fake_pd: SeededPagerDuty) -> None:
    sev = pd.declare()
    inc = fake_pd.state.add_incident(fake_pd.checkout, "Checkout down")
    # 429 with Retry-After, then a 502: both retried, the link still works.
    fake_pd.rate_limit(f"/incidents/{inc['id']}", retry_after=1)
    fake_pd.fail(f"/incidents/{inc['id']}/alerts", status=502)
    pd.command(f"link {inc['id']}", channel=sev["channel"])
    wait_until(lambda: _pd_timeline(pd, sev["id"]), message="linked despite 429 and 502")
    assert [c.path for c in fake_pd.calls(f"/incidents/{inc['id']}")].count(
        f"/incidents/{inc['id']}"
    ) == 2
    # A revoked token: a clear message, no crash.
    fake_pd.token = "rotated-elsewhere"
    pd.command("alerts", channel=sev["channel"])
    assert "refused the API token" in _ephemeral(pd, sev["channel"])
    fake_pd.forbidden_tokens.add("fake-pd-token")
    pd.command("oncall", channel=sev["channel"])
    assert "refused access (403)" in _ephemeral(pd, sev["channel"], 2)


def test_declaring_at_the_configured_severity_pages_the_service(
    make_bot: Any, fake_pd: SeededPagerDuty
) -> None:
    h = make_bot(pagerduty_page_on_severity="SEV-2", pagerduty_page_service="checkout")

    def posts() -> list[Any]:
        return [c for c in fake_pd.calls("/incidents") if c.method == "POST"]

    sev1 = h.declare("declare sev1 Everything is down")
    wait_until(lambda: "Paged *checkout*" in h.slack.messages(sev1["channel"])[-1]["text"])
    assert len(posts()) == 1 and "INC-1" in posts()[0].json()["incident"]["title"]
    h.declare("declare sev3 A small thing")
    h.declare("declare sev2 Search is slow")
    wait_until(lambda: len(posts()) == 2, message="SEV-2 paged too")
    assert "INC-3" in posts()[1].json()["incident"]["title"]


def test_page_on_declare_failure_is_reported_in_the_channel(
    make_bot: Any, fake_pd: SeededPagerDuty
) -> None:
    h = make_bot(pagerduty_page_on_severity="SEV-1", pagerduty_page_service="no-such-service")
    sev = h.declare("declare sev1 Everything is down")
    wait_until(
        lambda: "Could not page no-such-service" in h.slack.messages(sev["channel"])[-1]["text"]
    )


def test_resolve_in_pagerduty_failure_is_reported_in_the_channel(
    make_bot: Any, fake_pd: SeededPagerDuty
) -> None:
    h = make_bot(resolve_pagerduty_on_resolve=True, pagerduty_from_email="nobody@example.com")
    sev = h.declare()
    inc = fake_pd.state.add_incident(fake_pd.checkout, "Checkout down")
    h.command(f"link {inc['id']}", channel=sev["channel"])
    wait_until(lambda: _pd_timeline(h, sev["id"]), message="linked")
    h.command("resolve", channel=sev["channel"])
    warning = wait_until(
        lambda: [
            m["text"]
            for m in h.slack.messages(sev["channel"])
            if "Could not resolve it in PagerDuty" in m["text"]
        ]
    )
    assert "Requester User Not Found" in warning[0]
    assert fake_pd.state.incidents[inc["id"]]["status"] == "triggered"


def test_a_repeated_page_finds_the_incident_it_already_created(
    pd: Harness, fake_pd: SeededPagerDuty
) -> None:
    """A page whose answer was lost is retried; PagerDuty's dedup key prevents a second one."""
    from bot.integrations.pagerduty import make_pagerduty

    adapter = make_pagerduty(pd.deps.settings)
    assert adapter is not None
    service_id = fake_pd.checkout["id"]
    first = adapter.create_incident(service_id, "[INC-7] Down", "body", incident_key="sevbot-7-x")
    again = adapter.create_incident(service_id, "[INC-7] Down", "body", incident_key="sevbot-7-x")
    adapter.close()
    assert again.id == first.id
    keyed = [i for i in fake_pd.state.incidents.values() if i["incident_key"] == "sevbot-7-x"]
    assert len(keyed) == 1


def test_paging_for_a_private_incident_keeps_its_title_out_of_pagerduty(
    pd: Harness, fake_pd: SeededPagerDuty
) -> None:
    sev = pd.declare("declare private sev2 Payroll export leaked")
    assert "Paging checkout" in _reply(pd.command("page checkout", channel=sev["channel"]))
    post = wait_until(lambda: [c for c in fake_pd.calls("/incidents") if c.method == "POST"])[0]
    created = post.json()["incident"]
    assert created["title"] == "[INC-1] (private incident)"
    assert "Payroll" not in json.dumps(created) and sev["channel"] in created["body"]["details"]
