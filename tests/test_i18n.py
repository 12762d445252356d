"""Korean and English at run time: the workspace language, and each reader's Slack locale."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot import i18n
from bot.fakes.slack import FakeSlack
from bot.nudges.rules import UPDATE, Due, Facts
from bot.postmortems.render import (
    BUILTIN_TEMPLATES,
    PostmortemFacts,
    TimelineRow,
    load_template,
    render_markdown,
    template_path,
)
from bot.settings import Settings
from bot.slack.blocks import nudges as nudge_messages
from bot.text import duration_value, format_duration
from tests.harness import Harness, start_harness, wait_until


@pytest.fixture
def korean(fake_slack: FakeSlack, clean_engine: Engine) -> Iterator[Harness]:
    """Yield a bot whose workspace language is Korean."""
    running = start_harness(fake_slack, clean_engine, language="ko")
    yield running
    running.bot.close()


def _text(message: dict[str, object]) -> str:
    return json.dumps(message, ensure_ascii=False)


def _reply(response: object) -> str:
    """Return the text of the bot's ephemeral answer to a slash command."""
    body = str(getattr(response, "body", ""))
    return str(json.loads(body).get("text", "")) if body.startswith("{") else body


def test_a_korean_workspace_speaks_korean_in_channels_buttons_and_durations(
    korean: Harness,
) -> None:
    reply = korean.command("declare sev2 결제 지연")
    assert reply.status == 200
    incident = korean.declare("declare sev2 결제 오류")
    korean.settle()
    kickoff = korean.slack.messages(incident["channel"])[0]
    shown = _text(kickoff)
    assert "업데이트 올리기" in shown and "심각도 변경" in shown and "책임자" in shown
    assert "Post update" not in shown
    announcement = _text(korean.slack.messages(korean.incidents_channel)[-1])
    assert "조사 중" in announcement and "선언됨" in announcement
    jiwoo = korean.slack.add_user("jiwoo", locale="ko-KR")
    help_reply = _reply(korean.command("help", user=jiwoo))
    assert "명령어" in help_reply and "장애 선언" in help_reply
    assert "없는 명령어" in _reply(korean.command("frobnicate", user=jiwoo))


def test_a_readers_slack_locale_picks_the_language_of_their_private_replies(
    harness: Harness,
) -> None:
    minsu = harness.slack.add_user("minsu", email="minsu@example.com", locale="ko-KR")
    first = _reply(harness.command("help", user=minsu))
    assert "`/incident` commands" in first  # not known yet: the workspace language
    languages = harness.deps.reader_languages
    wait_until(lambda: languages.cached(minsu) == (True, "ko"), message="locale fetched")
    calls = harness.slack.calls_to("users.info")
    assert any(c.get("user") == minsu and str(c.get("include_locale")) in ("1", "true", "True")
               for c in calls)  # fmt: skip
    assert "명령어" in _reply(harness.command("help", user=minsu))
    assert "`/incident` commands" in _reply(harness.command("help"))  # alice reads English
    # What minsu does in public is still written in the workspace language.
    incident = harness.declare("declare sev3 Cache misses", user=minsu)
    harness.settle()
    assert "Post update" in _text(harness.slack.messages(incident["channel"])[0])


def test_durations_and_dates_are_localised_but_setting_values_stay_parseable() -> None:
    with i18n.language("ko"):
        assert format_duration(3 * 3600 + 5 * 60) == "3시간 5분"
        assert format_duration(42) == "42초"
        assert duration_value(3600) == "1h"  # what the schedule modal pre-fills
        when = i18n.format_when(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), "Asia/Seoul")
        assert when.startswith("2026년 3월 2일 오후 6:00")
    assert format_duration(3 * 3600 + 5 * 60) == "3h 5m"
    assert i18n.language_of_locale("ko-KR") == "ko" and i18n.language_of_locale("fr-FR") is None


def test_nudges_read_naturally_in_korean() -> None:
    at = datetime(2030, 1, 1, tzinfo=UTC)
    facts = Facts(
        incident_id=1, severity="SEV-2", status="investigating", channel_id="C1",
        declared_at=at, last_human_message_at=None, last_update_at=None, resolved_at=None,
        meeting_at=None, postmortem_status="draft", number=7, title="결제 지연",
        commander_id="U1", reporter_id="U1",
    )  # fmt: skip
    due = Due(kind=UPDATE, due_at=at, silence=timedelta(hours=1))
    with i18n.language("ko"):
        text, blocks = nudge_messages.update_nudge(facts, due)
    assert (
        text
        == "1시간 동안 채널에 메시지가 없습니다. <@U1> 님 또는 다른 분이 업데이트를 올려 주세요."
    )
    assert "업데이트 올리기" in _text({"blocks": blocks}) and "미루기" in _text({"blocks": blocks})
    english, _ = nudge_messages.update_nudge(facts, due)
    assert english == "No messages for 1h. <@U1>, someone please post an update."


def test_korean_postmortem_template_is_chosen_and_renders_localised_facts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    root = Path(__file__).resolve().parent.parent
    config_copy = root / "config" / "postmortem_template.ko.md"
    assert config_copy.read_text(encoding="utf-8") == BUILTIN_TEMPLATES["ko"].read_text(
        encoding="utf-8"
    )
    monkeypatch.chdir(root)
    assert template_path(Settings(language="ko")) == "config/postmortem_template.ko.md"
    assert template_path(Settings(language="en")) == "config/postmortem_template.md"
    assert template_path(Settings(language="ko", postmortem_template="team.md")) == "team.md"
    monkeypatch.chdir(tmp_path)  # no config/ here: the packaged Korean template
    assert template_path(Settings(language="ko")) == str(BUILTIN_TEMPLATES["ko"])
    at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    facts = PostmortemFacts(
        number=7, title="결제 지연", severity="SEV-1", status="resolved", declared_at=at,
        resolved_at=at + timedelta(hours=2, minutes=5), timezone="Asia/Seoul", owner="alice",
        meeting_at=None, channel_name="inc-7", channel_url=None, pagerduty_url=None,
        summary=None, roles=[("Commander", "alice")],
        timeline=[TimelineRow(at, "Declared", None)],
        time_to_resolve=timedelta(hours=2, minutes=5),
    )  # fmt: skip
    with i18n.language("ko"):
        page = render_markdown(facts, template=load_template(template_path(Settings())))
    assert "## 타임라인" in page and "## 후속 조치" in page
    assert "해결까지 걸린 시간: 2시간 5분" in page
    assert "2026년 3월 2일 오후 6:00" in page  # the local time, in Korean


def test_public_posts_stay_in_the_workspace_language_while_the_reader_gets_theirs(
    harness: Harness,
) -> None:
    minsu = harness.slack.add_user("minsu", email="minsu@example.com", locale="ko-KR")
    harness.command("help", user=minsu)  # first contact: the locale is fetched meanwhile
    languages = harness.deps.reader_languages
    wait_until(lambda: languages.cached(minsu) == (True, "ko"), message="locale fetched")
    incident = harness.declare("declare sev3 Queue backlog", user=minsu)
    harness.slack.add_message(incident["channel"], minsu, "joining")  # minsu is a member
    harness.command(f"role comms <@{harness.bob}>", user=minsu, channel=incident["channel"])
    harness.settle()
    again = _reply(
        harness.command(f"role comms <@{harness.bob}>", user=minsu, channel=incident["channel"])
    )
    assert "이미" in again  # the error is for minsu: Korean
    notices = [m["text"] for m in harness.slack.messages(incident["channel"])]
    assert any("Comms is now" in text for text in notices), notices  # the channel: English


def test_fake_slack_returns_the_locale_only_when_asked(fake_slack: FakeSlack) -> None:
    minsu = fake_slack.add_user("minsu", locale="ko-KR")
    client = fake_slack.client()
    assert "locale" not in client.users_info(user=minsu)["user"]
    assert client.users_info(user=minsu, include_locale=True)["user"]["locale"] == "ko-KR"


class _Now:
    """An executor that runs at once, and a clock the test moves."""

    def __init__(self) -> None:
        self.t = 0.0

    def submit(self, fn: object, *args: object) -> None:
        fn(*args)  # type: ignore[operator]


def test_reader_languages_cache_expire_and_survive_slack_errors() -> None:
    from bot.integrations.ports import IntegrationError
    from bot.slack.languages import TTL_SECONDS, ReaderLanguages, user_of

    answers: dict[str, object] = {"U1": "ko-KR", "U2": IntegrationError("ratelimited")}
    calls: list[str] = []

    def lookup(user_id: str) -> str | None:
        calls.append(user_id)
        answer = answers[user_id]
        if isinstance(answer, Exception):
            raise answer
        return str(answer)

    now = _Now()
    languages = ReaderLanguages(lookup, now, clock=lambda: now.t)  # type: ignore[arg-type]
    assert languages.without_waiting("U1") is None  # a miss never waits; fetched meanwhile
    assert languages.without_waiting("U1") == "ko" and calls == ["U1"]
    assert languages.without_waiting("U2") is None and languages.cached("U2") == (True, None)
    answers["U1"] = "en-GB"
    now.t += TTL_SECONDS + 1
    assert languages.without_waiting("U1") is None  # expired: fetched again
    assert languages.cached("U1") == (True, "en")
    assert user_of({"user_id": "U1"}) == "U1"
    assert user_of({"user": {"id": "U2"}}) == "U2"
    assert user_of({"event": {"user": "U3"}}) == "U3"
    assert user_of({"event": {"user": {"id": "x"}}}) is None
