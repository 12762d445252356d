"""Shared set-up for the benchmarks: a bot on a temporary SQLite file, served by waitress."""

from __future__ import annotations

import statistics
import tempfile
import uuid
from pathlib import Path
from typing import Any

from bot.deps import build_deps
from bot.fakes.slack import FakeSlack
from bot.fakes.slack_requests import SlackRequestSigner
from bot.fakes.wsgi import WsgiServer
from bot.features import install_features
from bot.runtime import Bot, assemble
from bot.settings import Settings

SECRET = "bench-signing-secret"


def start_bot(slack: FakeSlack, **overrides: Any) -> tuple[Bot, SlackRequestSigner, Path]:
    """Assemble a bot against the fake Slack and a fresh SQLite database."""
    workdir = Path(tempfile.mkdtemp(prefix="sevbot-bench-"))
    values: dict[str, Any] = {
        "slack_bot_token": slack.bot_token,
        "slack_signing_secret": SECRET,
        "slack_api_url": slack.api_url,
        "database_url": f"sqlite:///{workdir / 'bench.db'}",
        "sevbot_config": None,
    }
    values.update(overrides)
    settings = Settings(**values)
    bot = assemble(settings, install_features(build_deps(settings)))
    return bot, SlackRequestSigner(SECRET, bot_user_id=slack.bot_user_id), workdir


Server = WsgiServer


def fresh_database(admin_url: str) -> str:
    """Create an empty PostgreSQL database next to admin_url and return its URL."""
    from sqlalchemy import make_url, text

    from bot.db import make_engine
    from bot.settings import normalise_database_url

    admin_url = normalise_database_url(admin_url)
    name = f"sevbot_bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


def percentile(values: list[float], pct: float) -> float:
    """Return the pct-th percentile (nearest rank)."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def median(values: list[float]) -> float:
    """Return the median."""
    return statistics.median(values)
