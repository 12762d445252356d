"""The weekly postmortem digest for managers: by status, overdue ones, meetings coming up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.followups.service import backlog
from bot.i18n import N_, _
from bot.incidents.models import Incident
from bot.postmortems import service
from bot.postmortems.models import STATUSES, Postmortem
from bot.settings import Settings
from bot.text import neutralise_external, truncate

MAX_LISTED = 15


@dataclass(frozen=True)
class Digest:
    """The digest as fallback text and Block Kit blocks."""

    text: str
    blocks: list[dict[str, Any]]


SECTION_LIMIT = 3000  # Slack: a section's text


def _escape(text: str) -> str:
    return neutralise_external(text)


def _status(status: str) -> str:
    """Return a Notion status (Draft, In review, Complete) in the current language."""
    labels = {"Draft": N_("Draft"), "In review": N_("In review"), "Complete": N_("Complete")}
    return _(labels[status]) if status in labels else status


def _line(postmortem: Postmortem, incident: Incident) -> str:
    if incident.is_private:  # counted, never named (nor linked) where everybody reads it
        return f"#{incident.number} (private incident)"
    title = _escape(f"#{incident.number} {incident.title}")
    return f"<{postmortem.notion_url}|{title}>" if postmortem.notion_url else title


def overdue_after(settings: Settings) -> timedelta:
    """Return how long after resolve an unfinished postmortem counts as overdue."""
    return settings.postmortem_complete_nudge_after * settings.postmortem_complete_escalate_after


def followup_backlog(*, session: Session, now: datetime) -> str:
    """Return the follow-up backlog of the last 7 days against the 7 days before."""
    week = timedelta(days=7)
    this = backlog(session=session, since=now - week, until=now)
    before = backlog(session=session, since=now - 2 * week, until=now - week)
    parts = []
    for key in ("opened", "done", "overdue"):
        delta = this[key] - before[key]
        parts.append(f"{key} {this[key]} ({'+' if delta >= 0 else ''}{delta} vs last week)")
    return ", ".join(parts)


def build_digest(*, session: Session, settings: Settings, now: datetime) -> Digest:
    """Build the weekly digest from the postmortem rows."""
    rows = service.list_with_incidents(session=session)
    tz = ZoneInfo(settings.default_timezone)
    by_status = {status: [(p, i) for p, i in rows if p.status == status] for status in STATUSES}
    limit = overdue_after(settings)
    overdue = [
        (p, i)
        for p, i in rows
        if p.status != "Complete" and i.resolved_at is not None and now - i.resolved_at > limit
    ]
    upcoming = sorted(
        [
            (p, i)
            for p, i in rows
            if p.meeting_at and now <= p.meeting_at <= now + timedelta(days=7)
        ],
        key=lambda pair: pair[0].meeting_at or now,
    )
    counts = ", ".join(f"{_status(status)}: {len(by_status[status])}" for status in STATUSES)
    sections = [
        (_("Open postmortems"), [pair for s in ("Draft", "In review") for pair in by_status[s]])
    ]
    sections.append(
        (_("Overdue (not complete {days}+ days after resolve)", days=limit.days), overdue)
    )
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _("Weekly postmortem digest")}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": _("*By status* — {counts}", counts=counts)},
        },
    ]
    text_lines = [_("Weekly postmortem digest. {counts}.", counts=counts)]
    for title, pairs in sections:
        lines = [f"• {_line(p, i)} — {_status(p.status)}" for p, i in pairs[:MAX_LISTED]]
        if len(pairs) > MAX_LISTED:
            lines.append(_("… and {count} more", count=len(pairs) - MAX_LISTED))
        body = "\n".join(lines) or _("None.")
        text = truncate(f"*{title}*\n{body}", SECTION_LIMIT)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
        text_lines.append(f"{title}: {len(pairs)}.")
    meeting_lines = [
        f"• {_line(p, i)} — {p.meeting_at.astimezone(tz):%a %d %b %H:%M %Z}"
        for p, i in upcoming[:MAX_LISTED]
        if p.meeting_at
    ]
    blocks.append(
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": truncate(
                    _("*Meetings in the next 7 days*")
                    + "\n"
                    + ("\n".join(meeting_lines) or _("None.")),
                    SECTION_LIMIT,
                ),
            },
        }
    )
    text_lines.append(_("Meetings in the next 7 days: {count}.", count=len(upcoming)))
    backlog = followup_backlog(session=session, now=now)
    blocks.append(
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*Follow-ups* — {backlog}"}}
    )
    text_lines.append(f"Follow-ups: {backlog}.")
    return Digest(text=" ".join(text_lines), blocks=blocks)
