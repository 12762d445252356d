"""Assemble and run the bot: migrations, Bolt app, HTTP server, Socket Mode, scheduler."""

from __future__ import annotations

import signal
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import structlog
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from slack_bolt import App

from bot.app import create_app
from bot.db import migrate
from bot.deps import Deps, build_deps
from bot.i18n import ContextThreadPoolExecutor
from bot.incidents.jobs import reconcile_activity, resume_incidents
from bot.integrations.ports import AuthError, IntegrationError
from bot.scheduler import Job, build_scheduler, every
from bot.settings import Settings
from bot.web import Route, WebApp

log = structlog.get_logger(__name__)


@dataclass
class Bot:
    """One assembled bot process."""

    settings: Settings
    deps: Deps
    app: App
    web: WebApp
    executor: ThreadPoolExecutor
    jobs: list[Job] = field(default_factory=list)

    def close(self) -> None:
        """Wait for background listener work to finish, then release the database."""
        self.executor.shutdown(wait=True)
        self.deps.incidents.close()
        self.deps.engine.dispose()


def assemble(settings: Settings, deps: Deps | None = None) -> Bot:
    """Migrate the database and build the app, the WSGI app and the job list."""
    deps = deps or build_deps(settings)
    migrate(deps.engine)
    try:  # learn the bot's identity now, so the first Slack request is not held up by it
        deps.chat.identity()
    except AuthError:
        raise
    except IntegrationError as exc:
        log.warning("slack_identity_unavailable", problem=str(exc))
    # Lazy listeners keep knowing whom they answer (bot.i18n), so the pool copies the context.
    executor = ContextThreadPoolExecutor(max_workers=16, thread_name_prefix="sevbot-listener")
    app = create_app(settings, deps, executor)
    routes: dict[str, Route] = dict(deps.extras.get("routes", {}))
    jobs = [
        Job("resume_incidents", resume_incidents, every(timedelta(seconds=15))),
        Job("reconcile_activity", reconcile_activity, DateTrigger()),  # once, at start
        *deps.extras.get("jobs", []),
    ]
    return Bot(settings, deps, app, WebApp(app, deps, routes), executor, jobs)


def start_scheduler(bot: Bot) -> BackgroundScheduler:
    """Start the background scheduler with every registered job."""
    scheduler = build_scheduler(bot.deps, bot.jobs)
    scheduler.start()
    log.info("scheduler_started", jobs=[job.name for job in bot.jobs])
    return scheduler


def serve_http(bot: Bot, *, threads: int = 8) -> None:
    """Serve the WSGI app with waitress (a production server) until interrupted."""
    from waitress import serve

    log.info("http_listening", port=bot.settings.port)
    # Stop gracefully on SIGTERM (Kubernetes, Heroku): unwind so the caller can flush and close.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    serve(bot.web, host="0.0.0.0", port=bot.settings.port, threads=threads, ident="sevbot")


def serve_socket_mode(bot: Bot, *, block: bool) -> object:
    """Connect over Socket Mode; block until interrupted when asked."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    assert bot.settings.slack_app_token is not None
    handler = SocketModeHandler(bot.app, bot.settings.slack_app_token.get_secret_value())
    log.info("socket_mode_connecting")
    if block:
        handler.start()
    else:
        handler.connect()
    return handler


def wait_for_signal() -> None:
    """Block the main thread until SIGINT or SIGTERM."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()


def serve(bot: Bot, *, http: bool, socket: bool, scheduler: bool) -> None:
    """Run until SIGINT/SIGTERM: the scheduler, Socket Mode and/or HTTP; then close cleanly."""
    jobs = start_scheduler(bot) if scheduler else None
    connection: Any = None
    try:
        if socket:
            connection = serve_socket_mode(bot, block=False)
        if http:
            serve_http(bot)
        else:
            wait_for_signal()
    finally:
        if connection is not None:
            connection.close()  # stop taking events before the listener pool shuts down
        if jobs is not None:
            jobs.shutdown(wait=False)
        bot.close()
