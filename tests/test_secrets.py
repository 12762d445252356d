"""Secrets never reach the logs: the real processes, known secret values, every line read.

`sevbot run` (HTTP, on PostgreSQL with a password in DATABASE_URL) goes through a declare, an
update, PagerDuty webhooks (good and badly signed), a resolve with its Notion export and some
error paths (Slack failing, malformed and unsigned requests) at DEBUG level; then `sevbot
worker` connects with the app token, and a start with a refused token fails. None of the
secret values may appear in anything the processes printed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import make_url

from bot.fakes.notion import FakeNotion
from bot.fakes.pagerduty import FakePagerDuty
from bot.fakes.slack import FakeSlack
from bot.fakes.slack_requests import SlackRequestSigner, send
from bot.fakes.tls import LocalCA
from bot.postmortems.setup import SCHEMA
from tests.conftest import _fresh_postgres_database, _postgres_url
from tests.harness import wait_until
from tests.test_process import _free_port

BOT_TOKEN = "xoxb-1111-2222-SecretBotToken"
SIGNING = "sign-2f8e1c0d9b7a5e3f"
APP_TOKEN = "xapp-1-A111-SecretAppToken"
PD_TOKEN = "pdtok-u+Ab9ZYXw7"
PD_HOOK = "whsec-7Hq2LmNop"
NOTION_TOKEN = "ntn_SecretNotionToken42"
DB_PASSWORD = "db-pass:9x!Q@z"
WRONG_TOKEN = "xoxb-9999-wrong-SecretToo"
SECRETS = [BOT_TOKEN, SIGNING, APP_TOKEN, PD_TOKEN, PD_HOOK, NOTION_TOKEN, DB_PASSWORD, WRONG_TOKEN]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[dict[str, object]]:
    try:
        url = make_url(_fresh_postgres_database(_postgres_url()))
    except Exception as exc:
        if os.environ.get("TEST_DATABASE_URL") or os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    ca = LocalCA()
    slack, pd, notion = FakeSlack(bot_token=BOT_TOKEN), FakePagerDuty(token=PD_TOKEN, ca=ca), None
    notion = FakeNotion(token=NOTION_TOKEN)
    for fake in (slack, pd, notion):
        fake.start()
    # trust auth ignores the password; it is still parsed, used and (must not be) logged
    database = url.set(password=DB_PASSWORD).render_as_string(hide_password=False)
    assert quote(DB_PASSWORD, safe="") in database or DB_PASSWORD in database
    (tmp_path / "empty.yaml").write_text("{}\n")
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING,
        "SLACK_API_URL": slack.api_url,
        "DATABASE_URL": database,
        "PORT": str(_free_port()),
        "SEVBOT_CONFIG": str(tmp_path / "empty.yaml"),
        "LOG_LEVEL": "DEBUG",
        "PAGERDUTY_API_TOKEN": PD_TOKEN,
        "PAGERDUTY_API_URL": pd.base_url,
        "PAGERDUTY_FROM_EMAIL": "alice@example.com",
        "PAGERDUTY_WEBHOOK_SECRET": f"old-{PD_HOOK},{PD_HOOK}",
        "SSL_CERT_FILE": pd.ca_file,
        "NOTION_TOKEN": NOTION_TOKEN,
        "NOTION_API_URL": notion.base_url,
        "NOTION_POSTMORTEM_DATABASE_ID": notion.add_database(SCHEMA),
    }
    try:
        yield {"slack": slack, "pd": pd, "notion": notion, "env": env, "dir": tmp_path}
    finally:
        for fake in (slack, pd, notion):
            fake.stop()
        ca.cleanup()


def _start(command: str, env: dict[str, str], workdir: Path, log: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", command],
        env=env,
        cwd=workdir,
        stdout=log.open("a"),
        stderr=subprocess.STDOUT,
        text=True,
    )


def _healthy(port: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_no_secret_value_is_ever_logged(world: dict[str, object]) -> None:
    slack, pd, notion = world["slack"], world["pd"], world["notion"]
    assert isinstance(slack, FakeSlack) and isinstance(pd, FakePagerDuty)
    assert isinstance(notion, FakeNotion)
    env, workdir = world["env"], world["dir"]
    assert isinstance(env, dict) and isinstance(workdir, Path)
    log = workdir / "sevbot.log"
    alice = slack.add_user("alice", email="alice@example.com")
    notion.add_user("Alice", "alice@example.com")
    slack.add_channel("incidents", members=[alice])
    general = slack.add_channel("general", members=[alice])
    signer = SlackRequestSigner(SIGNING, bot_user_id=slack.bot_user_id)
    url = f"http://127.0.0.1:{env['PORT']}"

    def command(text: str, channel: str = general) -> int:
        return send(
            url + "/slack/events",
            *signer.slash_command(user_id=alice, channel_id=channel, text=text),
        )[0]

    process = _start("run", env, workdir, log)
    try:
        wait_until(lambda: process.poll() is not None or _healthy(env["PORT"]), timeout=60)
        assert process.poll() is None, log.read_text()
        assert command(f"declare sev2 Checkout down, token {BOT_TOKEN[:9]}") == 200
        channel = wait_until(
            lambda: [c["id"] for c in slack.channels() if str(c["name"]).startswith("inc-")],
            timeout=30,
        )[0]
        wait_until(lambda: "incident_ready" in log.read_text(), timeout=30)
        assert command("update rolling back", channel) == 200
        # Someone pastes secrets into an update; at DEBUG, slack_sdk logs the bodies it sends.
        assert command(f"update oops: {PD_TOKEN} {SIGNING} {DB_PASSWORD}", channel) == 200
        wait_until(lambda: "oops" in log.read_text(), timeout=30)
        slack.fail_method("chat.postMessage", "internal_error", times=2)  # an error path
        assert command("update still rolling back", channel) == 200
        bad = signer.slash_command(user_id=alice, channel_id=general, text="x", bad_signature=True)
        assert send(url + "/slack/events", *bad)[0] == 401
        assert send(url + "/slack/events", "[1, 2", {"Content-Type": "application/json"})[0] == 401
        incident = pd.state.add_incident(pd.state.add_service("checkout"), "Checkout 500s")
        body, headers = pd.webhook("incident.triggered", incident["id"], [PD_HOOK])
        assert send(url + "/pagerduty/webhook", body.decode(), headers)[0] == 202
        body, headers = pd.webhook("incident.triggered", incident["id"], ["not-the-secret"])
        assert send(url + "/pagerduty/webhook", body.decode(), headers)[0] == 401
        assert command("resolve pool resized", channel) == 200
        wait_until(lambda: notion.pages and len(notion.pages) > 0, timeout=60)
        wait_until(lambda: "postmortem" in log.read_text().lower(), timeout=30)
    finally:
        _stop(process)
    worker = _start("worker", {**env, "SLACK_APP_TOKEN": APP_TOKEN}, workdir, log)
    try:
        wait_until(
            lambda: worker.poll() is not None or "scheduler_started" in log.read_text(), timeout=60
        )
    finally:
        _stop(worker)
    refused = subprocess.run(
        [sys.executable, "-m", "bot", "web"],
        env={**env, "SLACK_BOT_TOKEN": WRONG_TOKEN},
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode != 0
    output = log.read_text() + refused.stdout + refused.stderr
    lines = output.splitlines()
    assert len(lines) > 50, output  # DEBUG really was on: this is not an empty log
    for marker in ("incident_ready", "pagerduty.webhook_processed", "slack_request_refused"):
        assert marker in output, marker
    leaks = {s: [line for line in lines if s in line][:3] for s in SECRETS if s in output}
    encoded = {s: quote(s, safe="") for s in SECRETS if quote(s, safe="") in output}
    assert leaks == {} and encoded == {}, json.dumps({**leaks, **encoded}, indent=1)
