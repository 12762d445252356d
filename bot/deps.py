"""The dependency container: everything built from Settings once, at start-up, never at import."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from slack_sdk import WebClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.db import make_engine, make_session_factory
from bot.events import EventBus, decode_event
from bot.i18n import set_default_language
from bot.incidents.announce import ROLE_INVITE, invite_role_holder
from bot.incidents.context import IncidentContext
from bot.integrations.slack import SlackAdapter, make_web_client
from bot.integrations.slack_metadata import TaggedChat
from bot.outbox.delivery import Outbox
from bot.outbox.service import EVENT, Claimed
from bot.settings import Settings
from bot.slack.presenter import SlackPresenter
from bot.slack.router import CommandRouter


@dataclass
class Deps:
    """Shared objects of one running bot process."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    web_client: WebClient
    chat: SlackAdapter
    incidents: IncidentContext
    outbox: Outbox
    router: CommandRouter = field(default_factory=CommandRouter)
    # Optional features register their services here (pagerduty, notion, scheduler...).
    extras: dict[str, Any] = field(default_factory=dict)

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
    outbox = Outbox(session_factory, TaggedChat(web_client, chat))
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
