"""`sevbot demo` as a process: the whole story against the fakes, in under a minute."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot import i18n
from bot.demo.story import STEPS

TIME_LIMIT = 60.0


def _run_demo(workdir: Path, *args: str, stdin: str | None = None) -> tuple[int, str, float]:
    env = {**os.environ, "COLUMNS": "200", "SLACK_BOT_TOKEN": "xoxb-not-used-by-the-demo"}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "bot", "demo", *args],
        cwd=workdir,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, done.stdout + done.stderr, time.monotonic() - started


# What each language's run must show: the conversation (channels, authors, buttons as labels)
# and what every step produced.
EXPECTED = {
    "en": [
        "#incidents",
        "#inc-1-",
        "alice  clicks [Declare incident]",
        "Declared as INC-1",
        "[Post update] [Change severity] [Resolve]",
        "Comms is now @bob",
        "please post an update",
        "SEV-1",
        "Alerts: 3",
        "INC-1 resolved",
        "https://www.notion.so/",
        "[Schedule meeting]",
        "inc-1-postmortem.ics",
        "marked the postmortem complete",
        "#oncall-review",
        "Alert review",
        "Postmortem written to",
    ],
    "ko": [
        "#incidents",
        "#inc-1-",
        "jiwoo  [장애 선언] 클릭",
        "[업데이트 올리기] [심각도 변경] [해결]",
        "업데이트를 올려 주세요",
        "알림: 3건",
        "INC-1 해결",
        "https://www.notion.so/",
        "[회의 일정 잡기]",
        "inc-1-postmortem.ics",
        "#oncall-review",
        "알림 리뷰",
        "포스트모템을",
    ],
}
PAGE = {
    "en": ["# #1 Payments API 5xx above 5%", "| Status | Complete |", "## Timeline"],
    "ko": ["# #1 결제 API 5xx 비율 5% 초과", "| Status | Complete |", "## 타임라인", "심각도 변경"],
}


@pytest.mark.parametrize("language", ["en", "ko"])
def test_demo_tells_the_whole_story_and_writes_the_postmortem(
    tmp_path: Path, language: str
) -> None:
    before = set(tmp_path.iterdir())
    code, output, elapsed = _run_demo(tmp_path, "--language", language)
    assert code == 0, output
    assert elapsed < TIME_LIMIT, f"the demo took {elapsed:.1f} s"
    written = tmp_path / "sevbot-demo-postmortem.md"
    assert str(written.resolve()) in output  # the path is printed
    assert set(tmp_path.iterdir()) - before == {written}  # nothing else left behind
    with i18n.language(language):
        for step in STEPS:
            assert i18n._(step) in output
    for seen in EXPECTED[language]:
        assert seen in output, seen
    page = written.read_text(encoding="utf-8")
    for seen in PAGE[language]:
        assert seen in page, seen


def test_demo_refuses_an_output_it_cannot_write(tmp_path: Path) -> None:
    before = set(tmp_path.iterdir())
    code, output, _ = _run_demo(tmp_path, "--output", str(tmp_path / "missing" / "pm.md"))
    assert code != 0
    assert "cannot write" in output
    assert set(tmp_path.iterdir()) == before


PLAY_SCRIPT = """\
/incident declare sev2 결제 지연
#inc-1
결제 게이트웨이 502 확인 중
[Post update]
롤백 중입니다
wait 6
[Unknown button]
as bob
/incident resolve 롤백 완료
quit
"""


def test_play_prompt_is_driven_like_a_slack_user(tmp_path: Path) -> None:
    before = set(tmp_path.iterdir())
    code, output, elapsed = _run_demo(tmp_path, "--play", stdin=PLAY_SCRIPT)
    assert code == 0, output
    assert elapsed < TIME_LIMIT
    assert "alice in #incidents> /incident declare sev2 결제 지연" in output
    assert "sevbot (only visible to alice)  Declaring INC-1 (SEV-2)" in output
    assert "INC-1: 결제 지연" in output  # the kickoff in the new channel
    assert "alice  clicks [Post update]" in output and "modal “Post an update”" in output
    assert "롤백 중입니다" in output and "Posted by @alice" in output
    assert "No messages for" in output  # the silence nudge fired at demo speed
    assert "No button [Unknown button] to click." in output
    assert "bob in #inc-1" in output and "Resolved: 롤백 완료 (by @bob)" in output
    assert set(tmp_path.iterdir()) == before  # --play writes nothing


def test_play_ends_cleanly_at_end_of_input(tmp_path: Path) -> None:
    code, output, _ = _run_demo(tmp_path, "--play", stdin="help\n")
    assert code == 0, output
    assert output.count("Type as a Slack user:") == 2


def test_the_readme_starts_with_install_then_the_demo_then_the_tests() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    first_block = readme.split("```sh\n", 1)[1].split("```", 1)[0].strip()
    assert first_block.splitlines() == [
        "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/sevbot demo",
        "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/python -m pytest",
    ]


def test_play_in_korean_answers_in_korean(tmp_path: Path) -> None:
    script = "/incident declare sev2 결제 지연\n#inc-1\n/incident update 원인 파악 중\nquit\n"
    code, output, _ = _run_demo(tmp_path, "--play", "--language", "ko", stdin=script)
    assert code == 0, output
    assert "jiwoo in #incidents> /incident declare sev2 결제 지연" in output
    assert "INC-1 (SEV-2) 선언 중입니다" in output  # the ephemeral answer, in Korean
    assert "INC-1 업데이트" in output and "원인 파악 중" in output
