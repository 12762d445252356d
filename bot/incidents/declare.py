"""Declaring an incident: record it at once, then set up its Slack channel in the background."""

from __future__ import annotations

import contextvars
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import i18n
from bot.db import retry_while_unreachable, session_scope, utcnow
from bot.incidents import announce, service
from bot.incidents.context import IncidentContext
from bot.incidents.domain import IncidentSnapshot, InvalidInput, incident_label, snapshot
from bot.incidents.events import IncidentDeclared
from bot.incidents.lease import LEASE, claim, release
from bot.incidents.models import Incident
from bot.integrations.ports import ChatError, IntegrationError
from bot.observability.tracing import traced
from bot.outbox import service as outbox
from bot.settings import Settings
from bot.text import channel_name, clean_text

log = structlog.get_logger(__name__)

MAX_SETUP_ATTEMPTS = 12


def retry_delay(attempt: int) -> timedelta:
    """Return the back-off before setup attempt number attempt+1 (30 s doubling, at most 15 min)."""
    return timedelta(seconds=min(30 * 2 ** (attempt - 1), 900))


_NAME_RETRIES = 20
_USER_ID = re.compile(r"^[UW][A-Z0-9]+$")


@dataclass(frozen=True)
class DeclareRequest:
    """What a responder asked for, from the modal or the slash command."""

    request_key: str
    title: str
    severity: str
    reporter_id: str
    description: str = ""
    commander_id: str | None = None
    invitees: list[str] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)
    drill: bool = False
    private: bool = False
    security: bool = False  # private by default, and SECURITY_RESPONDERS are invited


def validate_title(title: str, settings: Settings) -> str:
    """Return the stripped title or raise InvalidInput with the rule it broke."""
    title = " ".join(clean_text(title).split())
    if not title:
        raise InvalidInput(i18n._("Please give the incident a title."))
    if len(title) > settings.title_max_length:
        raise InvalidInput(
            i18n._(
                "The title is {length} characters long; the limit is {limit}. Please shorten it.",
                length=len(title),
                limit=settings.title_max_length,
            )
        )
    return title


def validate_severity(severity: str, settings: Settings) -> str:
    """Return the severity if configured, else raise InvalidInput listing the valid ones."""
    if severity not in settings.severity_names:
        raise InvalidInput(
            i18n._(
                "`{severity}` is not a severity here. Use one of: {choices}.",
                severity=severity,
                choices=", ".join(settings.severity_names),
            )
        )
    return severity


@traced("declare")
def open_declaration(
    request: DeclareRequest, *, session_factory: Callable[[], Session], settings: Settings
) -> tuple[IncidentSnapshot, bool]:
    """Record a new incident (or return the one this request already created) and its number.

    One short transaction: the number comes from a counter row that concurrent declares
    take in turn, so a burst never runs out of numbers. The only conflict left is the same
    request delivered twice at once, which finds the incident its twin created.
    """
    title = validate_title(request.title, settings)
    severity = validate_severity(request.severity, settings)
    with session_factory() as session:
        bind = session.get_bind()  # no connection is taken yet
        try:
            if bind.dialect.name == "postgresql":
                values = _declared_values(request, title, severity)
                text = _declared_text(severity, title)
                if isinstance(bind, Engine):
                    # One autocommitted statement on one connection: the counter row is locked
                    # only inside the server, and the new row comes back with it.
                    autocommit = bind.execution_options(isolation_level="AUTOCOMMIT")
                    with Session(autocommit) as own:
                        return snapshot(service.insert_declared(values, text, session=own)), True
                incident = service.insert_declared(values, text, session=session)
                session.commit()  # a test's outer transaction
                return snapshot(incident), True
            existing = service.get_by_request_key(request.request_key, session=session)
            if existing is not None:
                return snapshot(existing), False
            incident = _insert_incident(request, title, severity, session)
            session.commit()
            return snapshot(incident), True
        except IntegrityError:  # the same request twice (its key is unique)
            session.rollback()
    with session_factory() as session:
        existing = service.get_by_request_key(request.request_key, session=session)
        if existing is None:
            raise RuntimeError("declaring failed on a conflict that is not a repeated request")
        return snapshot(existing), False


def _declared_values(request: DeclareRequest, title: str, severity: str) -> dict[str, Any]:
    return {
        "title": title,
        "description": request.description.strip(),
        "severity": severity,
        "status": "investigating",
        "reporter_id": request.reporter_id,
        "commander_id": request.commander_id or request.reporter_id,
        "invitees": list(dict.fromkeys(request.invitees)),
        "pending_links": dict(request.links),
        "is_drill": request.drill,
        "is_private": request.private or request.security,
        "is_security": request.security,
        "declared_at": utcnow(),
        "request_key": request.request_key,
    }


def _declared_text(severity: str, title: str) -> str:
    return i18n.public_("Declared {severity}: {title}", severity=severity, title=title)


def _insert_incident(
    request: DeclareRequest, title: str, severity: str, session: Session
) -> Incident:
    values = _declared_values(request, title, severity)
    now = values["declared_at"]
    incident = Incident(number=service.next_number(session=session), **values)
    session.add(incident)
    session.flush()
    service.add_timeline_entry(
        incident.id,
        session=session,
        kind="declared",
        text=_declared_text(severity, title),
        actor_id=request.reporter_id,
        occurred_at=now,
        dedupe_key="declared",
    )
    return incident


@traced("setup")
def setup_incident(incident_id: int, ctx: IncidentContext) -> bool:
    """Create, populate and announce the incident's channel; resume where a crash left off."""
    with session_scope(ctx.session_factory) as session:
        incident = service.get(incident_id, session=session)
        if incident is None or incident.setup_done_at is not None:
            return True
        if not claim(incident_id, session=session):
            return False
        incident.setup_attempts += 1
        attempt = incident.setup_attempts
        # A first attempt renders the incident as it is now, so later changes stay unsynced;
        # a retry may finish messages an earlier attempt rendered, so it syncs everything.
        rendered_revision = incident.revision if attempt == 1 else -1
    try:
        _ensure_channel(incident_id, ctx)
        _mark(incident_id, ctx, lease_until=utcnow() + LEASE)  # renew: a step may be slow
        _run_parallel_steps(incident_id, ctx, resumed=attempt > 1)
    except IntegrationError as exc:
        # Keep the lease as a back-off: the resume job retries once it expires.
        _mark(incident_id, ctx, lease_until=utcnow() + retry_delay(attempt))
        _record_failure(incident_id, ctx, str(exc), attempt=attempt)
        return False
    except BaseException:
        with session_scope(ctx.session_factory) as session:
            release(incident_id, session=session)
        raise
    with session_scope(ctx.session_factory) as session:
        incident = service.get(incident_id, session=session)
        assert incident is not None
        incident.setup_done_at = utcnow()
        incident.setup_error = None
        incident.synced_revision = max(incident.synced_revision, rendered_revision)
        incident.lease_until = None
        declared = announce.event_row(
            f"{incident_id}:declared", incident_id, IncidentDeclared(incident_id)
        )
        keys = outbox.enqueue([declared], session=session)
    log.info("incident_ready", incident_id=incident_id, attempts=attempt)
    ctx.outbox.deliver(keys)
    return True


def _load(incident_id: int, ctx: IncidentContext) -> IncidentSnapshot:
    with session_scope(ctx.session_factory) as session:
        incident = service.get(incident_id, session=session)
        assert incident is not None
        return snapshot(incident)


def _ensure_channel(incident_id: int, ctx: IncidentContext) -> None:
    incident = _load(incident_id, ctx)
    if incident.channel_id:
        return
    template = ctx.settings.channel_name_template
    for attempt in range(_NAME_RETRIES):
        suffix = "" if attempt == 0 else f"-{attempt + 1}"
        # A private channel's name is seen in invitations and notices: it never has the title.
        title = "private" if incident.is_private else incident.title
        name = channel_name(template, number=incident.number, title=title, suffix=suffix)
        try:
            channel_id = ctx.chat.create_channel(name, private=incident.is_private)
        except ChatError as exc:
            if exc.code != "name_taken":
                raise
            adopted = _adoptable_channel(name, ctx, private=incident.is_private)
            if adopted is None:
                continue
            channel_id = adopted
        with session_scope(ctx.session_factory) as session:
            row = service.get(incident_id, session=session)
            assert row is not None
            row.channel_id, row.channel_name = channel_id, name
        return
    raise ChatError(
        "name_taken", f"every channel name tried for {incident_label(incident.number)} was taken"
    )


def _adoptable_channel(name: str, ctx: IncidentContext, *, private: bool) -> str | None:
    """Return a channel the bot itself created under this name that no incident owns yet.

    That happens when a crash struck between conversations.create and recording its id.
    """
    found = ctx.chat.find_channel(name, private=private)
    if found is None or found.creator != ctx.chat.bot_user_id():
        return None
    with session_scope(ctx.session_factory) as session:
        if service.get_by_channel(found.id, session=session) is not None:
            return None
    return found.id


def _run_parallel_steps(incident_id: int, ctx: IncidentContext, *, resumed: bool) -> None:
    """Invite, set the topic, post and pin the kickoff, and announce, concurrently."""
    incident = _load(incident_id, ctx)
    with session_scope(ctx.session_factory) as session:
        row = service.get(incident_id, session=session)
        assert row is not None
        invitees = list(row.invitees or [])
        done = {
            "invite": row.members_invited,
            "topic": row.topic_set,
            "kickoff": row.kickoff_ts is not None and row.kickoff_pinned,
            "announce": row.announcement_ts is not None,
        }
    steps: dict[str, Callable[[], None]] = {
        "invite": lambda: _invite(incident, invitees, ctx),
        "topic": lambda: _topic(incident, ctx),
        "kickoff": lambda: _kickoff(incident, ctx, resumed=resumed),
        "announce": lambda: _announce(incident, ctx, resumed=resumed),
    }
    pending = [step for name, step in steps.items() if not done[name]]
    with ThreadPoolExecutor(max_workers=max(len(pending), 1)) as pool:
        # Each step keeps the caller's trace and log context (incident, Slack request id).
        futures = [pool.submit(contextvars.copy_context().run, step) for step in pending]
    errors = [f.exception() for f in futures if f.exception() is not None]
    if errors:
        raise errors[0]  # type: ignore[misc]


def _mark(incident_id: int, ctx: IncidentContext, **values: object) -> None:
    def write() -> None:
        with session_scope(ctx.session_factory) as session:
            row = service.get(incident_id, session=session)
            assert row is not None
            for key, value in values.items():
                setattr(row, key, value)

    retry_while_unreachable(write)  # a database restart must not make a retry post twice


def _invite(incident: IncidentSnapshot, invitees: list[str], ctx: IncidentContext) -> None:
    assert incident.channel_id
    people = [
        incident.reporter_id,
        incident.commander_id,
        *ctx.settings.default_responders,
        *invitees,
        *(security_responders(incident, ctx) if incident.is_security else []),
    ]
    wanted = [u for u in dict.fromkeys(p for p in people if p) if u != ctx.chat.bot_user_id()]
    refused = ctx.chat.invite(incident.channel_id, wanted) if wanted else []
    if refused:  # a typo in DEFAULT_RESPONDERS or a deactivated user must not block setup
        people_list = ", ".join(f"`{user}`" for user in refused)
        ctx.chat.post_message(
            incident.channel_id,
            i18n._(
                "Slack would not add {people} to this channel (unknown or deactivated). "
                "Check DEFAULT_RESPONDERS or invite them by hand.",
                people=people_list,
            ),
        )
    _mark(incident.id, ctx, members_invited=True)


def _topic(incident: IncidentSnapshot, ctx: IncidentContext) -> None:
    assert incident.channel_id
    ctx.chat.set_topic(incident.channel_id, ctx.presenter.topic(incident))
    _mark(incident.id, ctx, topic_set=True)


def _post_once(
    incident: IncidentSnapshot, ctx: IncidentContext, channel: str, what: str, resumed: bool
) -> str:
    """Post a setup message tagged with its key; a resumed setup first looks for it.

    A crash between Slack taking the message and its ts being recorded would otherwise post
    the kickoff or the announcement twice.
    """
    key = f"{incident.id}:setup:{what}"
    if resumed:
        oldest = incident.declared_at.timestamp() - 60
        found = ctx.chat.find_tagged(channel, key, oldest=oldest)
        if found:
            return found
    message = getattr(ctx.presenter, what)(incident)
    return ctx.chat.post_tagged(channel, message.text, list(message.blocks or []), key=key).ts


def _kickoff(incident: IncidentSnapshot, ctx: IncidentContext, *, resumed: bool) -> None:
    assert incident.channel_id
    ts = incident.kickoff_ts
    if ts is None:
        ts = _post_once(incident, ctx, incident.channel_id, "kickoff", resumed)
        _mark(incident.id, ctx, kickoff_ts=ts)
    ctx.chat.pin(incident.channel_id, ts)
    _mark(incident.id, ctx, kickoff_pinned=True)


def security_responders(incident: IncidentSnapshot, ctx: IncidentContext) -> list[str]:
    """Return SECURITY_RESPONDERS as user ids (a user group handle is looked up in Slack).

    A group Slack does not know must not block the setup: the channel is told instead.
    """
    assert incident.channel_id
    people: list[str] = []
    for entry in ctx.settings.security_responders:
        if _USER_ID.match(entry):
            people.append(entry)
            continue
        try:
            people.extend(ctx.chat.user_group_members(entry))
        except ChatError as exc:
            ctx.chat.post_message(
                incident.channel_id,
                f"Could not invite the security responders `{entry}` ({exc.code}). "
                "Check SECURITY_RESPONDERS or invite them by hand.",
            )
    return people


def _announce(incident: IncidentSnapshot, ctx: IncidentContext, *, resumed: bool) -> None:
    if incident.is_private:  # never in INCIDENTS_CHANNEL; a redacted notice if configured
        if not ctx.settings.private_incidents_channel:
            return
        channel = ctx.chat.resolve_channel(ctx.settings.private_incidents_channel)
        ts = _post_once(incident, ctx, channel, "announcement", resumed)
        _mark(incident.id, ctx, announcement_channel_id=channel, announcement_ts=ts)
        return
    channel = ctx.announcement_channel()
    ts = _post_once(incident, ctx, channel, "announcement", resumed)
    _mark(incident.id, ctx, announcement_channel_id=channel, announcement_ts=ts)


def _record_failure(incident_id: int, ctx: IncidentContext, problem: str, *, attempt: int) -> None:
    final = attempt >= MAX_SETUP_ATTEMPTS
    log.warning("incident_setup_failed", incident_id=incident_id, problem=problem, attempt=attempt)
    _mark(incident_id, ctx, setup_error=problem)
    if attempt != 1 and not final:
        return  # tell the reporter once when it starts failing, and once when we give up
    incident = _load(incident_id, ctx)
    message = ctx.presenter.setup_problem(incident, problem, final)
    try:
        ctx.chat.send_dm(incident.reporter_id, message.text, message.blocks)
    except IntegrationError:
        log.warning("setup_problem_not_delivered", incident_id=incident_id)
