"""Plug PagerDuty into the bot: the adapter, the webhook route, jobs, the link hook and events.

Its subcommands and buttons live in bot/slack/listeners (commands/pagerduty.py,
actions/pagerduty.py). Without PAGERDUTY_API_TOKEN they answer that PagerDuty is not
configured, and no route, job or hook is installed.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from functools import partial

import structlog

from bot.db import session_scope
from bot.deps import Deps
from bot.incidents.events import IncidentDeclared, IncidentResolved
from bot.integrations.pagerduty import make_pagerduty
from bot.integrations.ports import PagerDutyPort
from bot.observability.metrics import webhook_deliveries
from bot.pagerduty import flows, webhooks
from bot.pagerduty.alert_review import review_trigger, scheduled_review
from bot.pagerduty.cli import alert_review_command
from bot.scheduler import Job, every
from bot.web import HttpRequest, HttpResponse, Route

log = structlog.get_logger(__name__)

WEBHOOK_PATH = "/pagerduty/webhook"
INBOX_EVERY = timedelta(seconds=15)

commands = [alert_review_command]


def process_inbox(deps: Deps) -> int:
    """Process the stored webhook deliveries (the job, and the kick after each delivery)."""
    return webhooks.process_pending(deps.session_factory, deps.chat, deps.settings, deps.outbox)


class InboxKicker:
    """Queue one inbox run after a delivery; deliveries arriving meanwhile share that run."""

    def __init__(self, deps: Deps, executor: ThreadPoolExecutor) -> None:
        self.deps = deps
        self.executor = executor
        self._queued = False
        self._lock = threading.Lock()

    def kick(self) -> None:
        """Make sure an inbox run starts after now."""
        with self._lock:
            if self._queued:
                return
            self._queued = True
        self.executor.submit(self._run)

    def _run(self) -> None:
        with self._lock:
            self._queued = False
        try:
            while process_inbox(self.deps):
                pass
        except Exception:
            log.exception("pagerduty.inbox_failed")


def receive_webhook(
    request: HttpRequest, *, deps: Deps, kicker: InboxKicker, secrets: list[str]
) -> HttpResponse:
    """Answer POST /pagerduty/webhook: verify, store, answer, then process in the background."""
    signature = request.headers.get("x-pagerduty-signature")
    if not webhooks.verify_signature(secrets, request.body, signature):
        log.warning("pagerduty.webhook_bad_signature", has_signature=bool(signature))
        webhook_deliveries.labels("pagerduty", "rejected").inc()
        return HttpResponse(401, b"invalid or missing X-PagerDuty-Signature")
    try:
        webhooks.parse_event(request.body)
    except ValueError:
        webhook_deliveries.labels("pagerduty", "invalid").inc()
        return HttpResponse(400, b"not a PagerDuty V3 webhook event")
    with session_scope(deps.session_factory) as session:
        stored = webhooks.receive_delivery(
            request.body, request.headers.get("x-webhook-id"), session=session
        )
    webhook_deliveries.labels("pagerduty", "accepted" if stored else "duplicate").inc()
    if stored:
        kicker.kick()
    return HttpResponse(202, b"accepted" if stored else b"duplicate")


def webhook_route(deps: Deps, kicker: InboxKicker) -> Route:
    """Return the POST /pagerduty/webhook route, with the secrets read once."""
    secrets = webhooks.webhook_secrets(deps.settings)
    return partial(receive_webhook, deps=deps, kicker=kicker, secrets=secrets)


def resolve_in_pagerduty(event: IncidentResolved, *, deps: Deps) -> None:
    """Resolve the linked PagerDuty incidents of a resolved incident, if so configured."""
    flows.on_incident_resolved(
        event.incident_id,
        settings=deps.settings,
        session_factory=deps.session_factory,
        adapter=deps.pagerduty,
        chat=deps.chat,
    )


def page_if_severe(event: IncidentDeclared, *, deps: Deps) -> None:
    """Page the configured service for an incident declared severe enough."""
    flows.page_on_declare(
        event.incident_id,
        settings=deps.settings,
        session_factory=deps.session_factory,
        adapter=deps.pagerduty,
        chat=deps.chat,
    )


def install(deps: Deps) -> None:
    """Register the PagerDuty feature on deps."""
    # Annotated so that mypy proves the adapter satisfies the port the domain is typed against.
    adapter: PagerDutyPort | None = make_pagerduty(deps.settings)
    deps.pagerduty = adapter
    if adapter is None:
        return
    # One worker keeps deliveries in arrival order; the job below catches anything left over.
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pagerduty-inbox")
    deps.pagerduty_inbox = executor
    deps.link_hooks["pagerduty"] = flows.link_after_declare
    deps.routes[WEBHOOK_PATH] = webhook_route(deps, InboxKicker(deps, executor))
    jobs = deps.jobs
    jobs.append(Job("pagerduty_inbox", process_inbox, every(INBOX_EVERY)))
    if deps.settings.alert_review_channel:
        jobs.append(Job("alert_review", scheduled_review, review_trigger(deps.settings)))
    deps.bus.subscribe(IncidentResolved, partial(resolve_in_pagerduty, deps=deps))
    deps.bus.subscribe(IncidentDeclared, partial(page_if_severe, deps=deps))
