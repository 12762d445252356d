"""Pure Block Kit builders of postmortem posts: the weekly digest and the filed-in-Notion link."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.i18n import N_, _
from bot.postmortems.models import STATUSES
from bot.slack.blocks.followups import add_button as add_followup_button
from bot.text import neutralise_external, truncate

if TYPE_CHECKING:
    from bot.incidents.models import Incident
    from bot.postmortems.digest import DigestFacts
    from bot.postmortems.models import Postmortem

MAX_LISTED = 15
SECTION_LIMIT = 3000  # Slack: a section's text


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def filed_link_blocks(text: str, incident_id: int) -> list[dict[str, Any]]:
    """Build the post that the postmortem is in Notion, with [Add follow-up]."""
    return [_section(text), add_followup_button(incident_id)]


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


def digest_message(facts: DigestFacts) -> tuple[str, list[dict[str, Any]]]:
    """Build the weekly digest as fallback text and blocks."""
    by_status = facts.by_status
    counts = ", ".join(f"{_status(status)}: {len(by_status[status])}" for status in STATUSES)
    open_ = [pair for status in ("Draft", "In review") for pair in by_status[status]]
    overdue = _("Overdue (not complete {days}+ days after resolve)", days=facts.overdue_days)
    sections = [(_("Open postmortems"), open_), (overdue, facts.overdue)]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _("Weekly postmortem digest")}},
        _section(_("*By status* — {counts}", counts=counts)),
    ]
    text_lines = [_("Weekly postmortem digest. {counts}.", counts=counts)]
    for title, pairs in sections:
        lines = [f"• {_line(p, i)} — {_status(p.status)}" for p, i in pairs[:MAX_LISTED]]
        if len(pairs) > MAX_LISTED:
            lines.append(_("… and {count} more", count=len(pairs) - MAX_LISTED))
        body = "\n".join(lines) or _("None.")
        blocks.append(_section(truncate(f"*{title}*\n{body}", SECTION_LIMIT)))
        text_lines.append(f"{title}: {len(pairs)}.")
    meeting_lines = [
        f"• {_line(p, i)} — {p.meeting_at.astimezone(facts.timezone):%a %d %b %H:%M %Z}"
        for p, i in facts.upcoming[:MAX_LISTED]
        if p.meeting_at
    ]
    meetings = "\n".join(meeting_lines) or _("None.")
    heading = _("*Meetings in the next 7 days*")
    blocks.append(_section(truncate(f"{heading}\n{meetings}", SECTION_LIMIT)))
    text_lines.append(_("Meetings in the next 7 days: {count}.", count=len(facts.upcoming)))
    blocks.append(_section(f"*Follow-ups* — {facts.followups}"))
    text_lines.append(f"Follow-ups: {facts.followups}.")
    return " ".join(text_lines), blocks
