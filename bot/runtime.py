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

from bot.acks import AckFirstExecutor, AckGate
from bot.app import create_app
from bot.db import migrate, session_scope
from bot.deps import Deps, build_deps
from bot.incidents import service as incident_service
from bot.incidents.jobs import reconcile_activity, resume_incidents
from bot.outbox import service as outbox
from bot.postmortems import service as postmortem_service
from bot.scheduler import Job, build_scheduler, every
from bot.settings import Settings
from bot.socket_mode import SocketModeConnection, open_socket_mode
from bot.startup import quiet_slack_retries
from bot.web import MAX_BODY, Route, WebApp

log = structlog.get_logger(__name__)

OUTBOX_EVERY = timedelta(seconds=2)
HTTP_THREADS = 8  # waitress worker threads; the database pool is sized for them (bot.db)


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
        self.deps.outbox.close()
        self.deps.incidents.close()
        self.deps.engine.dispose()


def assemble(settings: Settings, deps: Deps | None = None) -> Bot:
    """Migrate the database and build the app, the WSGI app and the job list."""
    deps = deps or build_deps(settings)
    migrate(deps.engine)
    # Learn the bot's identity now, so the first Slack request is not held up by it; a token
    # Slack refuses, or a Slack that cannot be reached, stops the start (see bot.startup).
    with quiet_slack_retries():
        deps.chat.identity()
    gate = AckGate()
    executor = AckFirstExecutor(gate, max_workers=16, thread_name_prefix="sevbot-listener")
    app = create_app(settings, deps, executor)
    routes: dict[str, Route] = dict(deps.routes)
    if deps.engine.dialect.name == "sqlite":  # one process per SQLite file: no live claims
        with session_scope(deps.session_factory) as session:
            released = outbox.release_all(session=session)
            released += incident_service.release_leases(session=session)
            released += postmortem_service.release_export_leases(session=session)
        if released:
            log.info("claims_of_a_dead_process_released", count=released)
    jobs = [
        Job("outbox", deliver_outbox, every(OUTBOX_EVERY)),
        Job("resume_incidents", resume_incidents, every(timedelta(seconds=15))),
        Job("reconcile_activity", reconcile_activity, DateTrigger()),  # once, at start
        *deps.jobs,
    ]
    return Bot(settings, deps, app, WebApp(app, deps, routes, gate=gate), executor, jobs)


def deliver_outbox(deps: Deps) -> None:
    """Send what a crash, an outage or a back-off left in the outbox (the job)."""
    deps.outbox.deliver_due()


def start_scheduler(bot: Bot) -> BackgroundScheduler:
    """Start the background scheduler with every registered job."""
    scheduler = build_scheduler(bot.deps, bot.jobs)
    scheduler.start()
    log.info("scheduler_started", jobs=[job.name for job in bot.jobs])
    return scheduler


def server_options(*, threads: int = HTTP_THREADS) -> dict[str, Any]:
    """Return waitress's limits, chosen rather than inherited (see the README's Deploying).

    Waitress reads each request whole before a worker thread sees it, so idle or slow
    clients hold only a connection slot. The defaults (100 connections, a 120 s idle timeout)
    let 100 idle sockets lock everyone out, /healthz included; here 1,000 slots (poll(), not
    select(), so more than 1,024 descriptors work) and a 30 s idle timeout, swept every 10 s.
    Bodies over 1 MiB get waitress's own 413 before they are buffered.
    """
    return {
        "threads": threads,
        "connection_limit": 1000,
        "channel_timeout": 30,
        "cleanup_interval": 10,
        "asyncore_use_poll": True,
        "backlog": 1024,
        "max_request_header_size": 64 * 1024,
        "max_request_body_size": MAX_BODY + 64 * 1024,
        "ident": "sevbot",
    }


def serve_http(bot: Bot, *, threads: int = HTTP_THREADS) -> None:
    """Serve the WSGI app with waitress (a production server) until interrupted."""
    from waitress import serve

    log.info("http_listening", port=bot.settings.port)
    # Stop gracefully on SIGTERM (Kubernetes, Heroku): unwind so the caller can flush and close.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    serve(bot.web, host="0.0.0.0", port=bot.settings.port, **server_options(threads=threads))


def serve_socket_mode(bot: Bot) -> SocketModeConnection:
    """Connect over Socket Mode with the configured client; it reconnects by itself."""
    connection = open_socket_mode(bot.app, bot.settings)
    log.info(
        "socket_mode_connecting",
        client=bot.settings.socket_mode_client,
        ping_interval=bot.settings.socket_mode_ping_interval.total_seconds(),
    )
    connection.connect()
    return connection


def serve_ops_in_background(bot: Bot) -> Any:
    """Serve /healthz and /metrics on PORT from a thread, for processes without Slack HTTP."""
    from waitress.server import create_server

    ops = WebApp(bot.app, bot.deps, slack=False)
    server = create_server(ops, host="0.0.0.0", port=bot.settings.port, threads=2, ident="sevbot")
    threading.Thread(target=server.run, name="sevbot-ops", daemon=True).start()
    log.info("ops_listening", port=bot.settings.port, paths=["/healthz", "/metrics"])
    return server


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
    ops: Any = None
    try:
        if socket:
            connection = serve_socket_mode(bot)
        if http:
            serve_http(bot)
        else:
            ops = serve_ops_in_background(bot)
            wait_for_signal()
    finally:
        if ops is not None:
            ops.close()
        if connection is not None:
            connection.close()  # stop taking events before the listener pool shuts down
        if jobs is not None:
            jobs.shutdown(wait=False)
        bot.close()
