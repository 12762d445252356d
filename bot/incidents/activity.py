"""Channel activity: human messages (for nudges) and pinned or :pushpin:-ed messages (timeline)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.db import session_scope
from bot.incidents import service
from bot.incidents.context import IncidentContext


def slack_ts_to_datetime(ts: str) -> datetime:
    """Convert a Slack message ts ('1700000000.000100') to an aware UTC datetime."""
    return datetime.fromtimestamp(float(ts), tz=UTC)


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
        found = ctx.chat.get_message(channel_id, ts)
        text = found.text if found else ""
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
