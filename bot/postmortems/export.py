"""Export flow: one Notion page per incident, regenerated on re-run, queued while Notion is down.

Entry points take ids and open their own sessions: `export_postmortem` (resolve and
`/incident postmortem`), `retry_pending_exports` (the scheduler), `push_properties`
(after a meeting is recorded or the postmortem is marked done in Slack).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from bot.db import session_scope, utcnow
from bot.followups import service as followup_service
from bot.i18n import N_, public_
from bot.incidents import service as incidents
from bot.integrations.ports import ChatPort, IntegrationError, NotionPort, Trashed
from bot.observability.tracing import traced
from bot.outbox import service as outbox_service
from bot.outbox.delivery import Outbox
from bot.outbox.service import Outgoing
from bot.postmortems import body, service
from bot.postmortems.models import Postmortem
from bot.postmortems.properties import build_properties, iso_date, slack_names
from bot.postmortems.render import (
    ActionItem,
    build_facts,
    load_template,
    render_segments,
    template_path,
)
from bot.settings import Settings
from bot.slack.blocks.postmortems import filed_link_blocks

log = logging.getLogger(__name__)

NOT_CONFIGURED = N_(
    "The postmortem is tracked, but Notion is not configured: set NOTION_TOKEN and "
    "NOTION_POSTMORTEM_DATABASE_ID (see `sevbot notion-setup`) to file it in Notion."
)
LEASE = timedelta(minutes=10)
LINK_POST = "postmortem_link"
# What the bot forgets about a page that was moved to Notion's trash before filing a new one.
FORGET_PAGE: dict[str, Any] = {
    "notion_page_id": None,
    "notion_url": None,
    "regions": {},
    "body_complete": False,
    "pending_append": None,
    "link_posted": False,  # the new link reaches the channel even if filing it fails this time
}


@dataclass(frozen=True)
class ExportResult:
    """What an export did: exported, queued (will retry), not_configured or busy."""

    status: str
    url: str | None = None
    message: str = ""


def database_for(private: bool, settings: Settings) -> str | None:
    """Return the Notion database of an incident's postmortem (a private one has its own)."""
    if private and settings.notion_private_postmortem_database_id:
        return settings.notion_private_postmortem_database_id
    return settings.notion_postmortem_database_id


def retry_delay(attempts: int) -> timedelta:
    """Return the wait before the next queued attempt: 1, 2, 4 … minutes, at most 30."""
    return timedelta(minutes=min(30, 2 ** max(0, attempts - 1)))


def _say(
    chat: ChatPort,
    channel: str | None,
    text: str,
    thread_ts: str | None = None,
    blocks: list[dict[str, Any]] | None = None,
) -> None:
    if not channel:
        return
    try:
        chat.post_message(channel, text, blocks=blocks, thread_ts=thread_ts)
    except IntegrationError as exc:  # telling people must not undo the export
        log.warning("postmortem message not posted: %s", exc)


@traced("export")
def export_postmortem(
    incident_id: int,
    *,
    session_factory: sessionmaker[Session],
    notion: NotionPort | None,
    chat: ChatPort,
    settings: Settings,
    pagerduty_url: str | None = None,
    now: datetime | None = None,
    tell_channel: bool = True,
    outbox: Outbox | None = None,
) -> ExportResult:
    """Create or update the incident's Notion postmortem; queue it for retry when Notion fails.

    With an outbox (the running bot), the link posts are recorded with the export's result and
    sent after the commit, exactly once; without one (unit tests) they are posted at once.
    """
    now = now or utcnow()
    with session_scope(session_factory) as session:
        incident = incidents.get(incident_id, session=session)
        if incident is None:
            raise ValueError(f"no incident with id {incident_id}")
        postmortem = service.get_or_create(incident_id, session=session)
        linked = pagerduty_url or service.pagerduty_url(incident_id, session=session)
        if linked:
            postmortem.pagerduty_url = linked
        channel = incident.channel_id
        database = database_for(incident.is_private, settings)
        configured = notion is not None and bool(database)
        claimed = False
        if not configured:
            postmortem.export_pending = False
        else:
            postmortem.export_pending = True
            claimed = service.claim_export(incident_id, session=session, now=now, lease=LEASE)
    if notion is None or not configured:
        if tell_channel:
            _say(chat, channel, public_(NOT_CONFIGURED))
        return ExportResult("not_configured", message=NOT_CONFIGURED)
    if not claimed:
        return ExportResult("busy", message="another export of this postmortem is running")
    try:
        assert database is not None
        url, first_time, recreated = _export(
            incident_id, session_factory, notion, chat, settings, now, database
        )
    except IntegrationError as exc:
        return _queue(incident_id, session_factory, chat, exc, now)
    return _finish(
        incident_id, session_factory, chat, url, first_time, now, recreated=recreated, outbox=outbox
    )


def _export(
    incident_id: int,
    session_factory: sessionmaker[Session],
    notion: NotionPort,
    chat: ChatPort,
    settings: Settings,
    now: datetime,
    database: str,
) -> tuple[str, bool, bool]:
    with session_scope(session_factory) as session:
        incident = incidents.get(incident_id, session=session)
        postmortem = service.get(incident_id, session=session)
        assert incident is not None and postmortem is not None
        entries = list(incidents.timeline(incident_id, session=session))
        followups = list(followup_service.for_incident(incident_id, session=session))
        session.expunge_all()
    names, email = slack_names(
        incident,
        [e.text for e in entries],
        [e.actor_id for e in entries] + [f.owner_id for f in followups],
        chat,
    )
    facts = build_facts(
        incident,
        entries,
        names=names,
        timezone=settings.default_timezone,
        now=now,
        pagerduty_url=postmortem.pagerduty_url,
        meeting_at=postmortem.meeting_at,
        action_items=[
            ActionItem(
                label=f.label,
                text=f.text,
                owner=names.get(f.owner_id, f.owner_id),
                due=f.due_on.isoformat() if f.due_on else None,
                status=f.status,
                url=f.notion_url,
            )
            for f in followups
        ],
    )
    segments = render_segments(facts, template=load_template(template_path(settings)))
    source = notion.data_source_id(database)
    owner = _owner(notion, email)
    page_id, url = postmortem.notion_page_id, postmortem.notion_url
    if page_id is None:
        found = notion.find_page(source, number_property="Incident", number=incident.number)
        if found is not None:  # an earlier create reached Notion but its answer was lost
            page_id, url = found.id, found.url
            _save(
                session_factory,
                incident_id,
                notion_page_id=page_id,
                notion_url=url,
                body_complete=False,
            )
    first_time = not postmortem.link_posted
    properties = build_properties(
        incident,
        postmortem,
        owner_id=owner,
        creating=page_id is None,
        channel_url=facts.channel_url,
    )
    recreated = False
    if page_id is not None:
        if postmortem.push_pending:  # a Slack-side change whose push failed earlier
            properties.update(pushed_properties(postmortem))
        try:
            notion.update_page(page_id, properties)
        except Trashed:
            # Someone moved the page to the trash: file a new one, and say so in the channel.
            log.warning("postmortem page %s is in Notion's trash; creating a new one", page_id)
            _save(session_factory, incident_id, **FORGET_PAGE)
            page_id, recreated = None, True
            properties = build_properties(
                incident, postmortem, owner_id=owner, creating=True, channel_url=facts.channel_url
            )
    if page_id is None:
        created, batches = body.create_page(notion, source, properties, segments)
        page_id, url = created.page_id, created.url
        _save(
            session_factory,
            incident_id,
            notion_page_id=page_id,
            notion_url=url,
            body_complete=False,
        )
        body.write_rest(notion, page_id, batches[1:])
        regions = body.map_regions(notion, page_id, segments, body.tags_of(batches))
    elif postmortem.body_complete:
        regions = body.regenerate_regions(
            notion,
            page_id,
            segments,
            postmortem.regions or {},
            save=lambda done, pending: _save(
                session_factory, incident_id, regions=done, pending_append=pending
            ),
            pending=postmortem.pending_append,
        )
    else:
        tags = body.write_full_body(notion, page_id, segments)
        regions = body.map_regions(notion, page_id, segments, tags)
    _save(
        session_factory,
        incident_id,
        regions=regions,
        body_complete=True,
        push_pending=False,
        pending_append=None,
    )
    assert url is not None
    return url, first_time, recreated


def _owner(notion: NotionPort, email: str | None) -> str | None:
    """Return the Notion user with the commander's email; no access just leaves Owner empty."""
    if not email:
        return None
    try:
        return notion.user_id_by_email(email)
    except IntegrationError as exc:
        log.warning("Notion user lookup failed; Owner stays empty: %s", exc)
        return None


def _save(session_factory: sessionmaker[Session], incident_id: int, **values: Any) -> None:
    with session_scope(session_factory) as session:
        postmortem = service.get(incident_id, session=session)
        assert postmortem is not None
        for key, value in values.items():
            setattr(postmortem, key, value)


def _queue(
    incident_id: int,
    session_factory: sessionmaker[Session],
    chat: ChatPort,
    exc: IntegrationError,
    now: datetime,
) -> ExportResult:
    message = str(exc)
    with session_scope(session_factory) as session:
        postmortem = service.get(incident_id, session=session)
        incident = incidents.get(incident_id, session=session)
        assert postmortem is not None and incident is not None
        postmortem.export_pending = True
        postmortem.export_attempts += 1
        postmortem.next_export_at = now + retry_delay(postmortem.export_attempts)
        postmortem.last_export_error = message
        postmortem.export_lease_until = None
        tell = postmortem.error_notified != message
        postmortem.error_notified = message
        channel = incident.channel_id
    if tell:
        _say(chat, channel, public_(
            "I could not file the postmortem in Notion: {problem}. "
            "It is queued and I will keep retrying.", problem=message,
        ))  # fmt: skip
    return ExportResult("queued", message=message)


def _finish(
    incident_id: int,
    session_factory: sessionmaker[Session],
    chat: ChatPort,
    url: str,
    first_time: bool,
    now: datetime,
    *,
    recreated: bool = False,
    outbox: Outbox | None = None,
) -> ExportResult:
    with session_scope(session_factory) as session:
        postmortem = service.get(incident_id, session=session)
        incident = incidents.get(incident_id, session=session)
        assert postmortem is not None and incident is not None
        recovered = postmortem.error_notified is not None
        postmortem.export_pending = False
        postmortem.export_attempts = 0
        postmortem.next_export_at = None
        postmortem.last_export_error = None
        postmortem.error_notified = None
        postmortem.export_lease_until = None
        postmortem.exported_at = now
        postmortem.link_posted = True
        channel, thread = incident.announcement_channel_id, incident.announcement_ts
        if incident.is_private:  # the link stays in the private channel
            channel = thread = None
        incident_channel, number = incident.channel_id, incident.number
        posts = _link_posts(
            incident_id,
            url,
            number,
            incident_channel,
            (channel, thread) if first_time else (None, None),
            recreated=recreated,
            recovered=recovered,
            first_time=first_time,
            at=now,
        )
        keys = outbox_service.enqueue(posts, session=session) if outbox is not None else []
    if outbox is not None:
        outbox.deliver(keys)
    else:
        for post in posts:
            _say(chat, post.target, post.text, thread_ts=post.thread_ts, blocks=post.blocks or None)
    return ExportResult("exported", url=url)


def _link_posts(
    incident_id: int,
    url: str,
    number: int,
    incident_channel: str | None,
    thread: tuple[str | None, str | None],
    *,
    recreated: bool,
    recovered: bool,
    first_time: bool,
    at: datetime,
) -> list[Outgoing]:
    """Return the posts that tell people where the postmortem is (for the outbox)."""
    posts: list[Outgoing] = []
    key = f"{incident_id}:postmortem:{at.isoformat()}"
    if recreated and incident_channel:
        text = public_(
            "The postmortem page of incident {number} was in Notion's trash, "
            "so I filed a new one: {url}",
            number=number,
            url=url,
        )
        posts.append(Outgoing(key=key, kind=LINK_POST, target=incident_channel, text=text))
    elif (first_time or recovered) and incident_channel:
        prefix = public_("Notion is reachable again.") + " " if recovered else ""
        text = prefix + public_(
            "The postmortem of incident {number} is in Notion: {url}", number=number, url=url
        )
        filed = filed_link_blocks(text, incident_id)
        posts.append(
            Outgoing(key=key, kind=LINK_POST, target=incident_channel, text=text, blocks=filed)
        )
        channel, thread_ts = thread
        if first_time and channel and thread_ts:
            posts.append(
                Outgoing(
                    key=f"{key}:thread",
                    kind=LINK_POST,
                    target=channel,
                    thread_ts=thread_ts,
                    text=text,
                )
            )
    return [replace(p, incident_id=incident_id) for p in posts]


def retry_pending_exports(
    *,
    session_factory: sessionmaker[Session],
    notion: NotionPort | None,
    chat: ChatPort,
    settings: Settings,
    now: datetime | None = None,
    outbox: Outbox | None = None,
) -> list[ExportResult]:
    """Run the queued exports that are due (the scheduler calls this every minute or so)."""
    if notion is None or not settings.notion_postmortem_database_id:
        return []
    now = now or utcnow()
    with session_scope(session_factory) as session:
        due = list(service.due_exports(session=session, now=now))
    return [
        export_postmortem(
            incident_id,
            session_factory=session_factory,
            notion=notion,
            chat=chat,
            settings=settings,
            now=now,
            outbox=outbox,
        )
        for incident_id in due
    ]


def push_properties(
    incident_id: int,
    *,
    session_factory: sessionmaker[Session],
    notion: NotionPort | None,
    settings: Settings,
) -> bool:
    """Write the bot-owned properties (meeting, status) to an existing page; queue on failure."""
    with session_scope(session_factory) as session:
        incident = incidents.get(incident_id, session=session)
        postmortem = service.get(incident_id, session=session)
        if (
            notion is None
            or incident is None
            or postmortem is None
            or not postmortem.notion_page_id
        ):
            return False
        session.expunge_all()
    # Status is the team's to move (Draft, In review) once the page exists; the bot only
    # writes Complete. The meeting comes from Slack here.
    properties = pushed_properties(postmortem)
    try:
        notion.update_page(postmortem.notion_page_id, properties)
    except IntegrationError as exc:
        _save(
            session_factory,
            incident_id,
            export_pending=True,
            push_pending=True,
            last_export_error=str(exc),
        )
        return False
    return True


def pushed_properties(postmortem: Postmortem) -> dict[str, Any]:
    """Return what Slack decided and the page must show: the meeting, and Complete."""
    properties: dict[str, Any] = {"Meeting": {"date": iso_date(postmortem.meeting_at)}}
    if postmortem.status == "Complete":
        properties["Status"] = {"select": {"name": "Complete"}}
    return properties
