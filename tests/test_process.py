"""The real `sevbot run` process: serves HTTP, declares, and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bot.fakes.slack import FakeSlack
from bot.fakes.slack_requests import SlackRequestSigner, send
from tests.harness import wait_until


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/healthz", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def test_sevbot_run_serves_and_stops_on_sigterm(fake_slack: FakeSlack, tmp_path: Path) -> None:
    alice = fake_slack.add_user("alice", email="alice@example.com")
    fake_slack.add_channel("incidents", members=[alice])
    general = fake_slack.add_channel("general", members=[alice])
    port = _free_port()
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": fake_slack.bot_token,
        "SLACK_SIGNING_SECRET": "process-secret",
        "SLACK_API_URL": fake_slack.api_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}",
        "PORT": str(port),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        env=env,
        cwd=tmp_path,  # no config/sevbot.yaml here: built-in defaults
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: process.poll() is not None or _healthy(url), timeout=30)
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        signer = SlackRequestSigner("process-secret", bot_user_id=fake_slack.bot_user_id)
        status, _ = send(
            url + "/slack/events",
            *signer.slash_command(user_id=alice, channel_id=general, text="declare Disk full"),
        )
        assert status == 200
        wait_until(lambda: fake_slack.calls_to("conversations.create"), timeout=15)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert (tmp_path / "run.db").exists()


def _start(env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def test_sigkill_and_restart_sends_the_due_nudge_once(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    alice = fake_slack.add_user("alice", email="alice@example.com")
    fake_slack.add_channel("incidents", members=[alice])
    general = fake_slack.add_channel("general", members=[alice])
    port = _free_port()
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": fake_slack.bot_token,
        "SLACK_SIGNING_SECRET": "process-secret",
        "SLACK_API_URL": fake_slack.api_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}",
        "PORT": str(port),
        "UPDATE_NUDGE_AFTER": "6s",
    }
    url = f"http://127.0.0.1:{port}"
    signer = SlackRequestSigner("process-secret", bot_user_id=fake_slack.bot_user_id)

    def nudges() -> list[dict[str, object]]:
        channels = [c["id"] for c in fake_slack.channels() if str(c["name"]).startswith("inc-")]
        return [
            m
            for channel in channels
            for m in fake_slack.messages(channel)
            if "please post an update" in str(m.get("text"))
        ]

    first = _start(env, tmp_path)
    try:
        wait_until(lambda: _healthy(url), timeout=30)
        command = signer.slash_command(user_id=alice, channel_id=general, text="declare DB down")
        declared = time.monotonic()  # declared_at is at or after this moment
        assert send(url + "/slack/events", *command)[0] == 200
        wait_until(lambda: fake_slack.calls_to("conversations.create"), timeout=15)
        time.sleep(1.5)
        first.send_signal(signal.SIGKILL)  # mid-interval, no chance to clean up
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    second = _start(env, tmp_path)
    try:
        wait_until(nudges, timeout=30)
        sent_after = time.monotonic() - declared
        assert sent_after >= 6  # never early
        time.sleep(max(0.0, 11.0 - (time.monotonic() - declared)))  # before the next due time
        assert len(nudges()) == 1
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=20)
