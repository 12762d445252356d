"""`sevbot worker` (no Slack HTTP) still serves /healthz and /metrics on PORT for Kubernetes."""

from __future__ import annotations

import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from bot.fakes.slack import FakeSlack
from tests.harness import wait_until
from tests.test_process import BotProcess


def test_worker_serves_health_and_metrics_but_not_slack(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    bot = BotProcess(fake_slack, tmp_path)
    bot.process = subprocess.Popen(
        [sys.executable, "-m", "bot", "worker"],
        env=bot.env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: bot.process.poll() is not None or bot.healthy(), timeout=30)  # type: ignore[union-attr]
        assert bot.process.poll() is None, "sevbot worker exited at start"
        with urllib.request.urlopen(bot.url + "/metrics", timeout=5) as reply:
            text = reply.read().decode()
        assert "sevbot_scheduler_lag_seconds" in text and "sevbot_open_incidents" in text
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(bot.url + "/slack/events", data=b"{}", timeout=5)
        assert refused.value.code == 404
        assert bot.stop(signal.SIGTERM) == 0
    finally:
        bot.kill_if_running()
