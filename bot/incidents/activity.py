"""Channel activity: human messages (for nudges) and pinned or :pushpin:-ed messages (timeline)."""

from __future__ import annotations

from datetime import UTC, datetime

import structlog

from bot.db import session_scope
from bot.incidents import service
from bot.incidents.context import IncidentContext
from bot.integrations.ports import IntegrationError

log = structlog.get_logger(__name__)


def slack_ts_to_datetime(ts: str) -> datetime:
    """Convert a Slack message ts ('1700000000.000100') to an aware UTC datetime."""
    return datetime.fromtimestamp(float(ts), tz=UTC)


HUMAN_SUBTYPES = {None, "file_share", "thread_broadcast", "me_message"}


def is_human(*, user: str | None, subtype: str | None, bot_id: str | None) -> bool:
    """Say whether a message was written by a person (not a bot, a join or an edit)."""
    return subtype in HUMAN_SUBTYPES and not bot_id and bool(user)


def record_human_message(channel_id: str, user_id: str, ts: str, ctx: IncidentContext) -> bool:
    """Record that a person posted in an incident channel; False if it is not one."""
    incident_id = ctx.incident_for_channel(channel_id)
    if incident_id is None:
        return False
    ctx.activity.record(incident_id, ts, user_id, slack_ts_to_datetime(ts))
    return True


def record_pinned_message(
    channel_id: str,
    ts: str,
    *,
    kind: str,
    actor_id: str | None,
    text: str | None,
    ctx: IncidentContext,
) -> bool:
    """Add a pinned or :pushpin:-reacted message to the timeline, once per message and kind."""
    incident_id = ctx.incident_for_channel(channel_id)
    if incident_id is None:
        return False
    if text is None:
        try:
            found = ctx.chat.get_message(channel_id, ts)
        except IntegrationError as exc:  # keep the entry; the text can be read in Slack
            log.warning("pinned_message_unreadable", problem=str(exc))
            found = None
        text = found.text if found else "(message could not be read; see the link)"
        author = found.user if found else actor_id
    else:
        author = actor_id
    permalink = ctx.chat.permalink(channel_id, ts)
    with session_scope(ctx.session_factory) as session:
        return service.add_timeline_entry(
            incident_id,
            session=session,
            kind=kind,
            text=text,
            actor_id=author,
            permalink=permalink,
            occurred_at=slack_ts_to_datetime(ts),
            dedupe_key=f"{kind}:{ts}",
            data={"ts": ts, "by": actor_id},
        )


def reconcile_activity(ctx: IncidentContext, *, per_channel: int = 100) -> int:
    """Record human messages that a crash kept from being written, from Slack's history.

    Runs once at start-up: the newest messages of every open incident channel are recorded
    (idempotently, by ts), so the nudges never act on a stale activity clock.
    """
    with session_scope(ctx.session_factory) as session:
        channels = [
            (incident.id, incident.channel_id)
            for incident in service.list_open(session=session)
            if incident.channel_id
        ]
    recorded = 0
    for incident_id, channel_id in channels:
        try:
            messages = ctx.chat.recent_messages(channel_id, per_channel)
        except IntegrationError as exc:
            log.warning("activity_reconcile_failed", incident_id=incident_id, problem=str(exc))
            continue
        for message in messages:
            if message.user and is_human(
                user=message.user, subtype=message.subtype, bot_id=message.bot_id
            ):
                ctx.activity.record(
                    incident_id, message.ts, message.user, slack_ts_to_datetime(message.ts)
                )
                recorded += 1
    ctx.activity.flush()
    return recorded
