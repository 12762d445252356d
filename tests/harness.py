"""A running bot wired to the fake Slack, for scenario tests (and reusable by feature tests)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from bot.deps import Deps, build_deps
from bot.fakes.slack import FakeSlack
from bot.fakes.slack_requests import SlackRequestSigner, send, to_bolt_request
from bot.fakes.wsgi import WsgiServer
from bot.features import install_features
from bot.runtime import Bot, assemble
from bot.settings import Settings

SIGNING_SECRET = "test-signing-secret"


def wait_until(predicate: Callable[[], Any], *, timeout: float = 10.0, message: str = "") -> Any:
    """Poll until predicate() is truthy (background work finishes), failing after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting: {message or predicate}")
        time.sleep(0.02)


@dataclass
class Harness:
    """A bot, its fake Slack, a signer and the people of the workspace."""

    bot: Bot
    slack: FakeSlack
    signer: SlackRequestSigner
    alice: str
    bob: str
    carol: str
    incidents_channel: str
    general: str

    @property
    def deps(self) -> Deps:
        """Return the bot's deps."""
        return self.bot.deps

    def settle(self, timeout: float = 10.0) -> None:
        """Wait until every background (lazy) listener queued so far has finished.

        All workers of the pool must meet at one barrier, which they can only reach once the
        tasks queued before it are done.
        """
        executor = self.bot.executor
        workers = executor._max_workers  # noqa: SLF001
        barrier = threading.Barrier(workers + 1, timeout=timeout)
        for _ in range(workers):
            executor.submit(barrier.wait)
        barrier.wait()
        self.deps.incidents.activity.flush()

    def dispatch(self, signed: tuple[str, dict[str, str]]) -> Any:
        """Send a signed request through the real Bolt app and return its response."""
        body, headers = signed
        return self.bot.app.dispatch(to_bolt_request(body, headers))

    def command(self, text: str, *, user: str | None = None, channel: str | None = None) -> Any:
        """Run /incident <text> as a user in a channel."""
        return self.dispatch(
            self.signer.slash_command(
                user_id=user or self.alice, channel_id=channel or self.general, text=text
            )
        )

    def declare(self, text: str = "declare sev2 Checkout is down", **kwargs: Any) -> dict[str, Any]:
        """Declare an incident by command and wait until its channel is ready; return the row."""
        from bot.db import session_scope
        from bot.incidents.models import Incident

        before = self._count()
        response = self.command(text, **kwargs)
        assert response.status == 200, response.body

        def ready() -> Incident | None:
            with session_scope(self.deps.session_factory) as session:
                rows = session.query(Incident).order_by(Incident.id).all()
                if len(rows) > before and rows[-1].setup_done_at is not None:
                    return rows[-1]
                return None

        incident = wait_until(ready, message="incident setup")
        return {"id": incident.id, "number": incident.number, "channel": incident.channel_id}

    def _count(self) -> int:
        from sqlalchemy import func, select

        from bot.db import session_scope
        from bot.incidents.models import Incident

        with session_scope(self.deps.session_factory) as session:
            return int(session.scalar(select(func.count()).select_from(Incident)) or 0)


def make_settings(slack: FakeSlack, engine: Engine, **overrides: Any) -> Settings:
    """Build Settings for a bot talking to the fake Slack and the test database."""
    values: dict[str, Any] = {
        "slack_bot_token": slack.bot_token,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": slack.api_url,
        "database_url": engine.url.render_as_string(hide_password=False),
        "slack_timeout": "5s",
    }
    values.update(overrides)
    return Settings(**values)


def start_harness(slack: FakeSlack, engine: Engine, **overrides: Any) -> Harness:
    """Seed the fake workspace and assemble a bot against it."""
    alice = slack.add_user("alice", email="alice@example.com", tz="Asia/Seoul")
    bob = slack.add_user("bob", email="bob@example.com", tz="Europe/Berlin")
    carol = slack.add_user("carol", email="carol@example.com")
    incidents = slack.add_channel("incidents", members=[alice, bob])
    general = slack.add_channel("general", members=[alice, bob, carol])
    settings = make_settings(slack, engine, **overrides)
    deps = install_features(build_deps(settings, engine=engine))
    bot = assemble(settings, deps)
    signer = SlackRequestSigner(SIGNING_SECRET, bot_user_id=slack.bot_user_id)
    return Harness(bot, slack, signer, alice, bob, carol, incidents, general)


class HttpServer(WsgiServer):
    """The bot's WSGI app served by waitress on a free loopback port."""

    def __init__(self, bot: Bot) -> None:
        super().__init__(bot.web, threads=4)

    def post(self, path: str, signed: tuple[str, dict[str, str]]) -> tuple[int, str]:
        """POST a signed request."""
        body, headers = signed
        return send(self.url + path, body, headers)
