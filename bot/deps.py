"""The dependency container: everything built from Settings once, at start-up, never at import."""

from __future__ import annotations

import functools
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from slack_sdk import WebClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.db import make_engine, make_session_factory
from bot.events import EventBus, decode_event
from bot.i18n import set_default_language
from bot.incidents.announce import ROLE_INVITE, invite_role_holder
from bot.incidents.context import IncidentContext
from bot.integrations.ports import ChatPort, NotionPort, PagerDutyPort
from bot.integrations.slack import SlackAdapter, make_web_client
from bot.outbox.delivery import Outbox
from bot.outbox.service import EVENT, Claimed
from bot.settings import Settings
from bot.slack.presenter import SlackPresenter
from bot.slack.router import CommandRouter

if TYPE_CHECKING:
    from bot.scheduler import Job
    from bot.slack.languages import ReaderLanguages
    from bot.web import Route

# Link a vendor object asked for at declaration to the new incident: hook(deps, incident_id, ref)
LinkHook = Callable[["Deps", int, str], None]


@dataclass
class Deps:
    """Shared objects of one running bot process."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    web_client: WebClient
    chat: ChatPort
    incidents: IncidentContext
    outbox: Outbox
    router: CommandRouter = field(default_factory=CommandRouter)
    # What the features install (bot/features.py): recurring jobs, HTTP routes and link hooks
    # by the kind of link ("pagerduty"). Their Slack listeners are in bot/slack/listeners/.
    jobs: list[Job] = field(default_factory=list)
    routes: dict[str, Route] = field(default_factory=dict)
    link_hooks: dict[str, LinkHook] = field(default_factory=dict)
    # Vendors other than Slack: None when not configured.
    pagerduty: PagerDutyPort | None = None
    notion: NotionPort | None = None
    # The single worker that processes PagerDuty webhook deliveries in arrival order.
    pagerduty_inbox: Executor | None = None
    # Set by create_app(): the Slack locale of whom each request answers.
    reader_languages: ReaderLanguages | None = None

    @property
    def bus(self) -> EventBus:
        """Return the in-process event bus."""
        return self.incidents.bus


def build_deps(
    settings: Settings, *, engine: Engine | None = None, web_client: WebClient | None = None
) -> Deps:
    """Build the engine, session factory, Slack client and incident context from settings."""
    set_default_language(settings.language)
    engine = engine or make_engine(settings.database_url)
    session_factory = make_session_factory(engine)
    web_client = web_client or make_web_client(settings)
    chat = SlackAdapter(web_client)
    bus = EventBus()
    outbox = Outbox(session_factory, chat)
    incidents = IncidentContext(
        settings=settings,
        session_factory=session_factory,
        chat=chat,
        presenter=SlackPresenter(),
        outbox=outbox,
        bus=bus,
    )
    outbox.handle(EVENT, functools.partial(_publish, bus))
    outbox.handle(ROLE_INVITE, functools.partial(invite_role_holder, ctx=incidents))
    return Deps(settings, engine, session_factory, web_client, chat, incidents, outbox)


def _publish(bus: EventBus, item: Claimed) -> tuple[None, None]:
    """Publish a domain event the outbox kept (an outbox handler)."""
    bus.publish(decode_event(item.payload or {}))
    return None, None
