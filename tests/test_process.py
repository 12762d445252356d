"""The real `sevbot run` process: serves HTTP, stops cleanly, survives SIGKILL without repeats."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from bot.fakes.slack import FakeSlack
from bot.fakes.slack_requests import SlackRequestSigner, send
from tests.harness import wait_until

SECRET = "process-secret"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class BotProcess:
    """`python -m bot run` against the fake Slack, on a SQLite file in tmp_path."""

    def __init__(self, slack: FakeSlack, workdir: Path, **env: str) -> None:
        self.slack, self.workdir = slack, workdir
        self.port = _free_port()
        self.env = {
            **os.environ,
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": slack.api_url,
            "DATABASE_URL": f"sqlite:///{workdir / 'run.db'}",
            "PORT": str(self.port),
            **env,
        }
        self.signer = SlackRequestSigner(SECRET, bot_user_id=slack.bot_user_id)
        self.alice = slack.add_user("alice", email="alice@example.com")
        slack.add_channel("incidents", members=[self.alice])
        self.general = slack.add_channel("general", members=[self.alice])
        self.process: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/healthz", timeout=1) as response:
                return response.status == 200
        except OSError:
            return False

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            env=self.env,
            cwd=self.workdir,  # no config/sevbot.yaml here: built-in defaults
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        wait_until(lambda: self.process.poll() is not None or self.healthy(), timeout=30)  # type: ignore[union-attr]
        assert self.process.poll() is None, "sevbot run exited at start"

    def command(self, text: str) -> int:
        signed = self.signer.slash_command(user_id=self.alice, channel_id=self.general, text=text)
        return send(self.url + "/slack/events", *signed)[0]

    def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.process is not None
        self.process.send_signal(sig)
        return self.process.wait(timeout=20)

    def kill_if_running(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def test_sevbot_run_serves_and_stops_on_sigterm(fake_slack: FakeSlack, tmp_path: Path) -> None:
    bot = BotProcess(fake_slack, tmp_path)
    try:
        bot.start()
        assert bot.command("declare Disk full") == 200
        wait_until(lambda: fake_slack.calls_to("conversations.create"), timeout=15)
        assert bot.stop(signal.SIGTERM) == 0
    finally:
        bot.kill_if_running()
    assert (tmp_path / "run.db").exists()


def test_sigkill_and_restart_sends_the_due_nudge_once(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    bot = BotProcess(fake_slack, tmp_path, UPDATE_NUDGE_AFTER="6s")

    def nudges() -> list[dict[str, Any]]:
        channels = [c["id"] for c in fake_slack.channels() if str(c["name"]).startswith("inc-")]
        return [
            message
            for channel in channels
            for message in fake_slack.messages(channel)
            if "please post an update" in str(message.get("text"))
        ]

    try:
        bot.start()
        declared = time.monotonic()  # declared_at is at or after this moment
        assert bot.command("declare DB down") == 200
        wait_until(lambda: fake_slack.calls_to("conversations.create"), timeout=15)
        time.sleep(1.5)
        bot.stop(signal.SIGKILL)  # mid-interval, no chance to clean up
        bot.start()
        wait_until(nudges, timeout=30)
        assert time.monotonic() - declared >= 6  # never early
        time.sleep(max(0.0, 11.0 - (time.monotonic() - declared)))  # before the next due time
        assert len(nudges()) == 1
        assert bot.stop(signal.SIGTERM) == 0
    finally:
        bot.kill_if_running()
