"""The hostile requests: each one built against the running sweep, with what it must get back."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlencode

from bot.fakes.slack_requests import (
    FORM,
    JSON,
    button_action,
    plain_text_value,
    static_select_value,
)
from bot.slack.ids import (
    IncidentAction,
    IncidentBlock,
    IncidentCallback,
    IncidentInput,
    NudgeAction,
    NudgeBlock,
    NudgeCallback,
    NudgeInput,
    PagerDutyAction,
)
from tests.harness import SIGNING_SECRET
from tests.hostile.conftest import Sweep

Request = tuple[str, str, bytes, dict[str, str]]
SLACK = "/slack/events"
PD = "/pagerduty/webhook"
LONG = "x" * 10_000


@dataclass(frozen=True)
class Case:
    """One hostile request and what it must get: a status, a message, and whether data changes."""

    id: str
    build: Callable[[Sweep], Request]
    status: int = 200
    says: str | None = None  # a fragment of the answer (an ephemeral text or a 4xx body)
    changes: bool = False
    secret_in_body: str | None = None  # text of the body that must never reach the log


def sign_raw(body: bytes, *, timestamp: str | None = None) -> dict[str, str]:
    """Sign raw bytes (even non-UTF-8 ones) the way Slack signs a body."""
    ts = timestamp or str(int(time.time()))
    digest = hmac.new(SIGNING_SECRET.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": "v0=" + digest.hexdigest()}


def slack_raw(body: bytes | str, content_type: str = JSON, *, signed: bool = True) -> Any:
    """A request to /slack/events with any body."""
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body

    def build(_: Sweep) -> Request:
        headers = {"Content-Type": content_type, **(sign_raw(raw) if signed else {})}
        return "POST", SLACK, raw, headers

    return build


def slash(text: str, where: str = "general", **fields: str) -> Any:
    """A signed /incident command in general, the open incident's or the resolved one's channel."""

    def build(s: Sweep) -> Request:
        channel = {
            "general": s.h.general,
            "open": s.open_channel,
            "resolved": s.resolved_channel,
        }[where]
        body, headers = s.h.signer.slash_command(user_id=s.h.alice, channel_id=channel, text=text)
        if fields:
            form = dict(parse_qsl(body))
            form.update(fields)
            body, headers = s.h.signer.sign(urlencode(form), FORM)
        return "POST", SLACK, body.encode(), headers

    return build


def event(make: Callable[[Sweep], dict[str, Any]], *, envelope: bool = True) -> Any:
    """A signed Events API body: an event wrapped in a valid envelope, or a whole envelope."""

    def build(s: Sweep) -> Request:
        if envelope:
            body, headers = s.h.signer.event(make(s))
        else:
            body, headers = s.h.signer.sign(json.dumps(make(s)), JSON)
        return "POST", SLACK, body.encode(), headers

    return build


def interaction(make: Callable[[Sweep], Any], *, raw: bool = False) -> Any:
    """A signed interactivity request; raw=True sends the payload field as given (not JSON)."""

    def build(s: Sweep) -> Request:
        payload = make(s)
        field = payload if raw else json.dumps(payload)
        body, headers = s.h.signer.sign(urlencode({"payload": field}), FORM)
        return "POST", SLACK, body.encode(), headers

    return build


def button(action_id: str, value: str = "", where: str = "open", **extra: Any) -> Any:
    """A signed click on a button in a channel."""

    def make(s: Sweep) -> Any:
        channel = s.open_channel if where == "open" else s.h.general
        body, _ = s.h.signer.block_actions(
            user_id=s.h.alice, channel_id=channel, actions=[button_action(action_id, value)]
        )
        payload = json.loads(parse_qs(body)["payload"][0])
        payload.update(extra)
        return payload

    return interaction(make)


def view(
    callback: str,
    values: Callable[[Sweep], dict[str, Any]] | dict[str, Any] | None,
    metadata: str | Callable[[Sweep], str] = "",
    **extra: Any,
) -> Any:
    """A signed view_submission; values=None leaves the state out."""

    def make(s: Sweep) -> Any:
        state = values(s) if callable(values) else values
        meta = metadata(s) if callable(metadata) else metadata
        body, _ = s.h.signer.view_submission(
            user_id=s.h.alice, callback_id=callback, values=state or {}, private_metadata=meta
        )
        payload = json.loads(parse_qs(body)["payload"][0])
        if values is None:
            del payload["view"]["state"]
        for key, value in extra.items():
            if key.startswith("view_"):
                payload["view"][key[5:]] = value
            else:
                payload[key] = value
        return payload

    return interaction(make)


def webhook(make: Callable[[Sweep], Any], *, secret: str | None = None) -> Any:
    """A PagerDuty delivery signed with our secret (or another)."""

    def build(s: Sweep) -> Request:
        payload = make(s)
        body, headers = s.webhook(payload) if secret is None else s.webhook(payload, secret=secret)
        return "POST", PD, body, headers

    return build


def pd_event(**overrides: Any) -> Callable[[Sweep], Any]:
    """A V3 incident.triggered event for the fake's incident, with parts replaced."""

    def make(s: Sweep) -> Any:
        incident = s.pd_incident
        data = {
            "id": incident["id"],
            "type": "incident",
            "number": incident["incident_number"],
            "title": incident["title"],
            "status": "triggered",
            "urgency": "high",
            "html_url": incident["html_url"],
            "created_at": incident["created_at"],
            "service": {"id": "PSVC", "type": "service_reference", "summary": "checkout"},
            "priority": {"id": "PPRI", "type": "priority", "summary": "P1"},
            "assignees": [],
        }
        event = {
            "id": f"E{time.monotonic_ns()}",
            "event_type": "incident.triggered",
            "resource_type": "incident",
            "occurred_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "agent": None,
            "data": data,
        }
        for key, value in overrides.items():
            if key.startswith("data_"):
                data[key[5:]] = value
            else:
                event[key] = value
        return {"event": event}

    return make


def http(method: str, path: str, body: bytes = b"", **headers: str) -> Any:
    """A plain HTTP request."""
    return lambda _s: (method, path, body, dict(headers))


def message(**fields: Any) -> Callable[[Sweep], dict[str, Any]]:
    """A message event in the open incident channel, with fields replaced."""

    def make(s: Sweep) -> dict[str, Any]:
        ts = f"{time.time():.6f}"
        base = {"type": "message", "channel": s.open_channel, "user": s.h.bob, "text": "hi"}
        return {**base, "ts": ts, "event_ts": ts, "channel_type": "channel", **fields}

    return make


def meeting_values(date: str, clock: str, zone: str) -> dict[str, Any]:
    """The schedule modal's state."""
    return {
        NudgeBlock.DATE: {NudgeInput.DATE: {"type": "datepicker", "selected_date": date}},
        NudgeBlock.TIME: {NudgeInput.TIME: {"type": "timepicker", "selected_time": clock}},
        NudgeBlock.TIMEZONE: {NudgeInput.TIMEZONE: plain_text_value(zone)},
        NudgeBlock.DURATION: {NudgeInput.DURATION: plain_text_value("30m")},
    }


def _meeting_meta(s: Sweep) -> str:
    return json.dumps({"incident_id": s.resolved_incident_id})


def _open_meta(s: Sweep) -> str:
    return json.dumps({"channel_id": s.open_channel})


TITLE = {IncidentBlock.TITLE: {IncidentInput.TITLE: plain_text_value("Modal outage")}}
DEEP_JSON = "[" * 100_000 + "]" * 100_000
NESTED_OBJECT = '{"type": "event_callback", "event": ' + '{"a": ' * 80 + "1" + "}" * 81
FORGED = "x\n2026-01-01T00:00:00Z [critical ] FORGED-LOG-LINE admin logged in"
ZONE_300 = "Europe/" + "A" * 300


def _slash_cases() -> list[Case]:
    not_incident = "incident channel"
    cases = [
        Case("declare-empty-opens-form", slash("declare")),
        Case("declare-10k-title", slash("declare sev2 " + LONG), says="the limit is 150"),
        Case("declare-nul-control", slash("declare DB \x00down\x07 \x1b[31mred"), changes=True),
        Case("declare-rtl-override", slash("declare invoice\u202egnp.exe broken"), changes=True),
        Case("declare-emoji", slash("declare 🔥🔥 checkout 💥"), changes=True),
        Case("declare-korean", slash("declare 결제 서비스 장애"), changes=True),
        Case("declare-broadcast", slash("declare <!channel> <!here> @everyone"), changes=True),
        Case("declare-fake-mentions", slash("declare <@U999|ceo> <#C999|secret>"), changes=True),
        Case("declare-mrkdwn", slash("declare *bold* _it_ ~s~ `code` > quote"), changes=True),
        Case("declare-link", slash("declare <https://evil.example|click me> now"), changes=True),
        Case("declare-sql", slash("declare '); DROP TABLE incidents; --"), changes=True),
        Case("declare-payload-word", slash("declare payload API errors"), changes=True),
        Case("declare-payload-field", slash('declare payload={"type":1}'), changes=True),
        Case("declare-sev9", slash("declare sev9 bad"), says="not a severity"),
        Case("declare-sev0", slash("declare sev0 bad"), says="not a severity"),
        Case(
            "declare-sev-huge", slash("declare SEV-99999999999999999999 x"), says="not a severity"
        ),
        Case("declare-sev-broadcast", slash("declare sev2"), changes=False),
        Case("unknown-subcommand", slash("frobnicate now"), says="don't know"),
        Case("unknown-broadcast", slash("<!channel> hi"), says="don't know"),
        Case("unknown-10k", slash(LONG), says="don't know"),
        Case("unknown-mrkdwn-link", slash("<https://evil.example|x>"), says="don't know"),
        Case("help", slash("help"), says="/incident"),
        Case("list", slash("list"), says="active"),
        Case(
            "update-broadcast", slash("update <!channel> it is <@U999> <#C1>", "open"), changes=True
        ),
        Case("update-10k", slash("update " + LONG, "open"), says="limit is 8000"),
        Case("update-nul", slash("update rolled \x00back", "open"), changes=True),
        Case("update-empty", slash("update", "open"), says="write the update"),
        Case("update-5mb", slash("update " + "y" * 5_000_000, "open"), 413),
        Case("update-sql", slash("update 1; DELETE FROM incidents", "open"), changes=True),
        Case("update-korean-emoji", slash("update 롤백 완료 ✅", "open"), changes=True),
        Case("update-payload", slash("update payload=%7B%7D", "open"), changes=True),
    ]
    for sub in ("update hi", "sev 1", "status identified", "resolve", "reopen", "role comms <@U1>"):
        cases.append(Case(f"outside-{sub.split()[0]}", slash(sub), says=not_incident))
    cases += [
        Case("outside-schedule", slash("schedule 2030-01-01 10:00 UTC"), says=not_incident),
        Case("outside-postmortem", slash("postmortem done"), says=not_incident),
        Case("outside-link", slash("link Q123"), says="incident"),
        Case("sev-9", slash("sev 9", "open"), says="not a severity"),
        Case("sev-word", slash("sev banana", "open"), says="not a severity"),
        Case("sev-negative", slash("sev -1", "open"), says="not a severity"),
        Case("sev-huge", slash("sev 99999999999999999999999", "open"), says="not a severity"),
        Case("sev-broadcast", slash("sev <!channel>", "open"), says="not a severity"),
        Case("sev-empty", slash("sev", "open"), says="Which severity"),
        Case("status-bad", slash("status exploded", "open"), says="not a status"),
        Case("status-broadcast", slash("status <!here>", "open"), says="not a status"),
        Case("status-empty", slash("status", "open"), says="Which status"),
        Case("role-king", slash("role king <@U0KING>", "open"), says="not a role"),
        Case("role-plain-at", slash("role commander @bob", "open"), says="Usage"),
        Case("role-broadcast", slash("role commander <!channel>", "open"), says="Usage"),
        Case("role-nested", slash("role commander <@<!channel>>", "open"), says="Usage"),
        Case("role-channel", slash("role commander <#C0123>", "open"), says="Usage"),
        Case("role-empty", slash("role", "open"), says="Usage"),
        Case(
            "schedule-bad-date", slash("schedule 2027-13-45 10:00", "resolved"), says="not a real"
        ),
        Case(
            "schedule-bad-time", slash("schedule 2027-01-01 25:00", "resolved"), says="not a real"
        ),
        Case(
            "schedule-zone-dir", slash("schedule 2027-01-01 10:00 America", "resolved"), says="IANA"
        ),
        Case(
            "schedule-zone-300",
            slash(f"schedule 2027-01-01 10:00 {ZONE_300}", "resolved"),
            says="IANA",
        ),
        Case(
            "schedule-zone-path",
            slash("schedule 2027-01-01 10:00 ../../etc/passwd", "resolved"),
            says="IANA",
        ),
        Case(
            "schedule-zone-slash",
            slash("schedule 2027-01-01 10:00 America/", "resolved"),
            says="IANA",
        ),
        Case(
            "schedule-zone-broadcast",
            slash("schedule 2027-01-01 10:00 <!channel>", "resolved"),
            says="IANA",
        ),
        Case(
            "schedule-year-9999", slash("schedule 9999-12-31 23:59 UTC", "resolved"), says="too far"
        ),
        Case(
            "schedule-past", slash("schedule 1999-01-01 10:00 UTC", "resolved"), says="in the past"
        ),
        Case(
            "schedule-words", slash("schedule tomorrow at noon", "resolved"), says="could not read"
        ),
        Case("slash-user-not-id", slash("list", user_id="<!channel>"), status=400),
        Case("slash-channel-not-id", slash("list", channel_id="general"), status=400),
    ]
    return cases


def _event_cases() -> list[Case]:
    return [
        Case("event-truncated", slack_raw('{"type": "event_callback", "event": {"ty'), 400),
        Case("event-list", slack_raw("[1, 2, 3]"), 400, says="JSON object"),
        Case("event-number", slack_raw("42", JSON), 400),
        Case("event-string", slack_raw('"event"', JSON), 400),
        Case("event-null", slack_raw("null", JSON), 400),
        Case("event-empty", slack_raw("", JSON), 400),
        Case("event-deep-list", slack_raw(DEEP_JSON), 400),
        Case("event-deep-object", slack_raw(NESTED_OBJECT), 400, says="nested"),
        Case("event-not-utf8", slack_raw(b'{"type": "event_callback", "x": "\xff\xfe"}'), 401),
        Case("event-form-garbage", slack_raw("a=b&c=d", FORM), 400),
        Case("ssl-check", slack_raw("ssl_check=1&token=x", FORM)),
        Case("event-no-event", event(lambda s: {"type": "event_callback"}, envelope=False), 400),
        Case(
            "event-as-string",
            event(lambda s: {"type": "event_callback", "event": "message"}, envelope=False),
            400,
        ),
        Case(
            "event-as-list",
            event(lambda s: {"type": "event_callback", "event": []}, envelope=False),
            400,
        ),
        Case("event-no-type", event(lambda s: {"channel": s.open_channel}), 400),
        Case("event-type-number", event(lambda s: {"type": 7}), 400),
        Case("event-user-number", event(message(user=12345)), 400, says="user"),
        Case("event-user-broadcast", event(message(user="<!channel>")), 400),
        Case("event-user-surrogate", event(message(user="U\ud800")), 400),
        Case("event-ts-object", event(message(ts={"a": 1})), 400, says="ts"),
        Case("event-ts-nan", event(message(ts="nan")), 400, says="ts"),
        Case("event-ts-inf", event(message(ts="1e309")), 400),
        Case("event-channel-list", event(message(channel=["C1"])), 400, says="channel"),
        Case("event-text-number", event(message(text=5)), 400),
        Case("event-subtype-dict", event(message(subtype={})), 400),
        Case(
            "event-id-number",
            event(
                lambda s: {"type": "event_callback", "event_id": 5, "event": message()(s)},
                envelope=False,
            ),
            400,
        ),
        Case("event-message-general", event(lambda s: {**message()(s), "channel": s.h.general})),
        Case("event-message-surrogate-text", event(message(text="\ud800 lone")), changes=True),
        Case("event-message-ok", event(message(text="<!channel> in chat")), changes=True),
        Case(
            "event-item-string",
            event(lambda s: {"type": "pin_added", "item": "x", "channel_id": s.open_channel}),
            400,
        ),
        Case(
            "event-pushpin-no-item-channel",
            event(
                lambda s: {
                    "type": "reaction_added",
                    "user": s.h.bob,
                    "reaction": "pushpin",
                    "item": {"type": "message"},
                }
            ),
            changes=True,
        ),
        Case(
            "event-pin-message-list",
            event(
                lambda s: {
                    "type": "pin_added",
                    "channel_id": s.open_channel,
                    "item": {"type": "message", "message": []},
                }
            ),
            400,
        ),
        Case(
            "event-pin-no-ts",
            event(
                lambda s: {
                    "type": "pin_added",
                    "user": s.h.bob,
                    "channel_id": s.open_channel,
                    "item": {"type": "message"},
                }
            ),
            changes=True,
        ),
        Case(
            "event-home-no-user",
            event(lambda s: {"type": "app_home_opened", "tab": "home"}),
            changes=True,
        ),
        Case(
            "event-home-tab-number",
            event(lambda s: {"type": "app_home_opened", "user": s.h.bob, "tab": 3}),
            400,
        ),
        Case("event-unknown-type", event(lambda s: {"type": "tokens_revoked_by_aliens"}), 404),
        Case("envelope-unknown-type", event(lambda s: {"type": "weird"}, envelope=False), 404),
        Case(
            "url-verification-no-challenge",
            event(lambda s: {"type": "url_verification"}, envelope=False),
            400,
        ),
        Case(
            "url-verification-number",
            event(lambda s: {"type": "url_verification", "challenge": 5}, envelope=False),
            400,
        ),
        Case(
            "envelope-type-list", event(lambda s: {"type": ["event_callback"]}, envelope=False), 400
        ),
        Case(
            "envelope-authorizations-string",
            event(
                lambda s: {"type": "event_callback", "authorizations": "x", "event": message()(s)},
                envelope=False,
            ),
            400,
        ),
    ]


def _interaction_cases() -> list[Case]:
    snooze = lambda value: {  # noqa: E731
        "type": "static_select",
        "action_id": NudgeAction.SNOOZE,
        "block_id": NudgeBlock.ACTIONS,
        "selected_option": value,
    }

    def snooze_click(option: Any) -> Any:
        def make(s: Sweep) -> Any:
            body, _ = s.h.signer.block_actions(
                user_id=s.h.alice, channel_id=s.open_channel, actions=[snooze(option)]
            )
            return json.loads(parse_qs(body)["payload"][0])

        return interaction(make)

    return [
        Case("payload-not-json", interaction(lambda s: "{not json", raw=True), 400),
        Case("payload-list", interaction(lambda s: [1, 2]), 400),
        Case("payload-number", interaction(lambda s: 42), 400),
        Case("payload-empty-object", interaction(lambda s: {}), 400),
        Case("payload-empty-string", interaction(lambda s: "", raw=True), 400),
        Case(
            "payload-unknown-type",
            interaction(lambda s: {"type": "weird", "user": {"id": s.h.alice}}),
            404,
        ),
        Case("action-unknown-id", button("no_such_action"), 404),
        Case("action-empty-list", button(IncidentAction.POST_UPDATE, actions=[]), 400),
        Case("action-dict", button(IncidentAction.POST_UPDATE, actions={"a": 1}), 400),
        Case(
            "action-no-action-id",
            button(IncidentAction.POST_UPDATE, actions=[{"type": "button"}]),
            400,
        ),
        Case(
            "action-value-number",
            button(
                IncidentAction.POST_UPDATE,
                actions=[{"action_id": IncidentAction.POST_UPDATE, "value": 5}],
            ),
            400,
        ),
        Case("action-user-missing", button(IncidentAction.POST_UPDATE, user=None), 400),
        Case(
            "action-user-broadcast",
            button(IncidentAction.POST_UPDATE, user={"id": "<!channel>"}),
            400,
        ),
        Case("action-channel-list", button(IncidentAction.POST_UPDATE, channel=["C1"]), 400),
        Case("action-post-update-ok", button(IncidentAction.POST_UPDATE)),
        Case("action-schedule-word", button(NudgeAction.SCHEDULE_MEETING, "abc")),
        Case("action-schedule-huge", button(NudgeAction.SCHEDULE_MEETING, "9" * 30)),
        Case("action-schedule-negative", button(NudgeAction.SCHEDULE_MEETING, "-5")),
        Case("action-snooze-unknown", snooze_click({"value": "99y"})),
        Case("action-snooze-string", snooze_click("1h"), 400),
        Case("action-pd-declare-garbage", button(PagerDutyAction.DECLARE, "not json", "general")),
        Case("action-pd-declare-list", button(PagerDutyAction.DECLARE, "[1]", "general")),
        Case(
            "action-pd-invite-broadcast", button(PagerDutyAction.INVITE_ONCALL, "<!channel>,@here")
        ),
        Case("view-unknown-callback", view("no_such_modal", TITLE), 404),
        Case("view-declare-no-state", view(IncidentCallback.DECLARE, None), 400, says="state"),
        Case(
            "view-declare-state-list",
            view(IncidentCallback.DECLARE, TITLE, view_state={"values": []}),
            400,
        ),
        Case(
            "view-declare-value-number",
            view(
                IncidentCallback.DECLARE,
                {
                    IncidentBlock.TITLE: {
                        IncidentInput.TITLE: {"type": "plain_text_input", "value": 5}
                    }
                },
            ),
            400,
        ),
        Case(
            "view-declare-commander-broadcast",
            view(
                IncidentCallback.DECLARE,
                {
                    **TITLE,
                    IncidentBlock.COMMANDER: {
                        IncidentInput.COMMANDER: {
                            "type": "users_select",
                            "selected_user": "<!channel>",
                        }
                    },
                },
            ),
            400,
        ),
        Case(
            "view-declare-meta-garbage",
            view(IncidentCallback.DECLARE, TITLE, "not json"),
            changes=True,
        ),
        Case(
            "view-declare-meta-links-list",
            view(IncidentCallback.DECLARE, TITLE, '{"links": [1, 2]}'),
            changes=True,
        ),
        Case(
            "view-declare-meta-number", view(IncidentCallback.DECLARE, TITLE, "123"), changes=True
        ),
        Case("view-declare-meta-type", view(IncidentCallback.DECLARE, TITLE, 5), 400),
        Case(
            "view-declare-long-title",
            view(
                IncidentCallback.DECLARE,
                {IncidentBlock.TITLE: {IncidentInput.TITLE: plain_text_value(LONG)}},
            ),
            says="limit is 150",
        ),
        Case(
            "view-declare-bad-severity",
            view(
                IncidentCallback.DECLARE,
                {
                    **TITLE,
                    IncidentBlock.SEVERITY: {IncidentInput.SEVERITY: static_select_value("SEV-9")},
                },
            ),
            says="not a severity",
        ),
        Case(
            "view-update-meta-garbage",
            view(
                IncidentCallback.UPDATE,
                {IncidentBlock.TEXT: {IncidentInput.TEXT: plain_text_value("x")}},
                "}{",
            ),
            says="incident",
        ),
        Case(
            "view-update-meta-channel-number",
            view(
                IncidentCallback.UPDATE,
                {IncidentBlock.TEXT: {IncidentInput.TEXT: plain_text_value("x")}},
                '{"channel_id": 5}',
            ),
            says="incident",
        ),
        Case(
            "view-update-10k",
            view(
                IncidentCallback.UPDATE,
                {IncidentBlock.TEXT: {IncidentInput.TEXT: plain_text_value(LONG)}},
                _open_meta,
            ),
            says="limit is 8000",
        ),
        Case(
            "view-severity-unknown",
            view(
                IncidentCallback.SEVERITY,
                {IncidentBlock.SEVERITY: {IncidentInput.SEVERITY: static_select_value("SEV-9")}},
                _open_meta,
            ),
            says="not a severity",
        ),
        Case("view-resolve-meta-list", view(IncidentCallback.RESOLVE, {}, "[]"), says="incident"),
        Case(
            "view-meeting-meta-garbage",
            view(NudgeCallback.SCHEDULE, meeting_values("2030-01-01", "10:00", "UTC"), "garbage"),
            says="meeting",
        ),
        Case(
            "view-meeting-meta-id-word",
            view(
                NudgeCallback.SCHEDULE,
                meeting_values("2030-01-01", "10:00", "UTC"),
                '{"incident_id": "abc"}',
            ),
            says="meeting",
        ),
        Case(
            "view-meeting-zone-dir",
            view(
                NudgeCallback.SCHEDULE,
                meeting_values("2030-01-01", "10:00", "America"),
                _meeting_meta,
            ),
            says="IANA",
        ),
        Case(
            "view-meeting-zone-300",
            view(
                NudgeCallback.SCHEDULE,
                meeting_values("2030-01-01", "10:00", ZONE_300),
                _meeting_meta,
            ),
            says="IANA",
        ),
        Case(
            "view-meeting-year-9999",
            view(
                NudgeCallback.SCHEDULE, meeting_values("9999-12-31", "23:59", "UTC"), _meeting_meta
            ),
            says="too far",
        ),
        Case(
            "view-meeting-bad-date",
            view(
                NudgeCallback.SCHEDULE, meeting_values("2030-02-31", "10:00", "UTC"), _meeting_meta
            ),
            says="date",
        ),
        Case("view-no-id", view(IncidentCallback.DECLARE, TITLE, view_id=None), 400),
        Case("view-user-number", view(IncidentCallback.DECLARE, TITLE, user={"id": 5}), 400),
    ]


def _webhook_cases() -> list[Case]:
    def raw(body: bytes) -> Callable[[Sweep], bytes]:
        return lambda _s: body

    return [
        Case("pd-unsigned", http("POST", PD, b'{"event": {}}', **{"Content-Type": JSON}), 401),
        Case("pd-wrong-secret", webhook(pd_event(), secret="not-our-secret"), 401),
        Case(
            "pd-garbage-signature",
            http("POST", PD, b"{}", **{"X-PagerDuty-Signature": "v1=zz,,,v1="}),
            401,
        ),
        Case("pd-malformed", webhook(raw(b'{"event": {"id": ')), 400),
        Case("pd-list", webhook(raw(b"[1, 2]")), 400),
        Case("pd-number", webhook(raw(b"42")), 400),
        Case("pd-not-utf8", webhook(raw(b'{"event": "\xff"}')), 400),
        Case("pd-event-string", webhook(lambda s: {"event": "incident.triggered"}), 400),
        Case("pd-event-list", webhook(lambda s: {"event": [1]}), 400),
        Case("pd-data-list", webhook(pd_event(data=[1, 2])), 400),
        Case("pd-service-string", webhook(pd_event(data_service="checkout")), 400),
        Case("pd-priority-string", webhook(pd_event(data_priority="P1")), 400),
        Case("pd-agent-string", webhook(pd_event(agent="someone")), 400),
        Case("pd-no-incident-id", webhook(pd_event(data_id=None)), 400),
        Case("pd-occurred-number", webhook(pd_event(occurred_at=12345)), 400),
        Case("pd-occurred-garbage", webhook(pd_event(occurred_at="yesterday")), 400),
        Case("pd-created-garbage", webhook(pd_event(data_created_at="soon")), 400),
        Case("pd-number-word", webhook(pd_event(data_number="many")), 400),
        Case("pd-assignees-string", webhook(pd_event(data_assignees="bob")), 400),
        Case("pd-unknown-type", webhook(pd_event(event_type="service.created")), 202, changes=True),
        Case(
            "pd-priority-broadcast",
            webhook(pd_event(data_priority={"summary": "<!everyone>"})),
            202,
            changes=True,
        ),
        Case(
            "pd-html-url-crafted",
            webhook(pd_event(data_id="QEVIL1", data_html_url="https://evil.example/x|<!channel>")),
            202,
            changes=True,
        ),
        Case(
            "pd-title-broadcast",
            webhook(pd_event(data_id="QEVIL2", data_title="<!channel> <https://evil.example|x>")),
            202,
            changes=True,
        ),
        Case("pd-oversized", webhook(lambda s: {"event": {"pad": "x" * (2 * 1024 * 1024)}}), 413),
        Case("pd-get", http("GET", PD), 405),
    ]


def _http_cases() -> list[Case]:
    unsigned = {"Content-Type": JSON}
    return [
        Case("get-events", http("GET", SLACK), 405),
        Case("put-events", http("PUT", SLACK, b"{}"), 405),
        Case("delete-events", http("DELETE", SLACK), 405),
        Case("post-healthz", http("POST", "/healthz", b"x"), 405),
        Case("post-metrics", http("POST", "/metrics", b"x"), 405),
        Case("get-unknown", http("GET", "/nope"), 404),
        Case("get-root", http("GET", "/"), 404),
        Case("get-events-subpath", http("GET", "/slack/events/x"), 404),
        Case("post-upper-path", http("POST", "/SLACK/EVENTS", b"{}"), 404),
        Case("get-dotdot", http("GET", "/slack/../etc/passwd"), 404),
        Case(
            "events-oversized",
            http("POST", SLACK, b"{" + b" " * (1024 * 1024 + 10) + b"}", **unsigned),
            413,
        ),
        Case(
            "unsigned-truncated",
            slack_raw('{"type": "event_callback", "ev', signed=False),
            401,
            secret_in_body="event_callback",
        ),
        Case("unsigned-list", slack_raw("[1, 2, 3]", signed=False), 401),
        Case("unsigned-deep", slack_raw(DEEP_JSON, signed=False), 401),
        Case("unsigned-not-utf8", slack_raw(b"\xff\xfe\x00garbage", signed=False), 401),
        Case(
            "unsigned-payload-garbage",
            slack_raw("payload=SECRETPAYLOADnotjson", FORM, signed=False),
            401,
            secret_in_body="SECRETPAYLOAD",
        ),
        Case(
            "unsigned-forged-log",
            slack_raw(FORGED, FORM, signed=False),
            401,
            secret_in_body="FORGED-LOG-LINE",
        ),
        Case(
            "unsigned-big",
            slack_raw("BIGBODY" + "y" * 900_000, FORM, signed=False),
            401,
            secret_in_body="BIGBODY",
        ),
        Case(
            "bad-signature",
            http(
                "POST",
                SLACK,
                b"command=/incident&text=BADSIGMARK",
                **{
                    "X-Slack-Request-Timestamp": str(int(time.time())),
                    "X-Slack-Signature": "v0=" + "0" * 64,
                },
            ),
            401,
            secret_in_body="BADSIGMARK",
        ),
        Case(
            "timestamp-word",
            http(
                "POST",
                SLACK,
                b"STAMPMARK",
                **{"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=1"},
            ),
            401,
            secret_in_body="STAMPMARK",
        ),
        Case(
            "signature-unicode",
            http(
                "POST",
                SLACK,
                b"x",
                **{"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=é"},
            ),
            401,
        ),
        Case(
            "stale-signature",
            lambda s: (
                "POST",
                SLACK,
                b"x=1",
                {"Content-Type": FORM, **sign_raw(b"x=1", timestamp=str(int(time.time()) - 900))},
            ),
            401,
        ),
    ]


CASES = [*_slash_cases(), *_event_cases(), *_interaction_cases(), *_webhook_cases(), *_http_cases()]
