"""Slack messages of the pagerduty feature, as plain text plus Block Kit dicts (pure functions)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.integrations.ports import Message
from bot.pagerduty.domain import PdAlert, PdIncident, PdLogEntry
from bot.pagerduty.ids import PdAction
from bot.text import mention, truncate
from bot.text import neutralise_external as neutralise

SECTION_LIMIT = 3000


@dataclass(frozen=True)
class OncallPerson:
    """Someone on call now, with their Slack account when one matches their email."""

    name: str
    email: str | None
    slack_user_id: str | None
    escalation_policy: str
    escalation_level: int
    schedule: str | None = None


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, SECTION_LIMIT)}}


def slack_date(at: datetime) -> str:
    """Render a time that Slack shows in each reader's timezone."""
    return f"<!date^{int(at.timestamp())}^{{date_short_pretty}} {{time}}|{at.isoformat()}>"


def duration(value: timedelta) -> str:
    """Render a duration as '45s', '12m' or '3h 5m'."""
    seconds = int(value.total_seconds())
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h {seconds % 3600 // 60}m"


def incident_link(pd: PdIncident) -> str:
    """Render '<url|#123 Title>' for a PagerDuty incident."""
    title = neutralise(truncate(pd.title, 150)).replace("|", "¦")
    return f"<{pd.html_url}|#{pd.number} {title}>" if pd.html_url else f"#{pd.number} {title}"


def declare_button_value(pd: PdIncident, severity: str) -> str:
    """Encode what the Declare button needs: the PagerDuty id, the mapped severity and a title."""
    return json.dumps(
        {
            "pd_incident_id": pd.id,
            "severity": severity,
            "title": truncate(pd.title, 150),
            "url": pd.html_url[:500],
        }
    )


def offer(pd: PdIncident, severity: str) -> Message:
    """Render the offer to declare a SEV for a triggered PagerDuty incident."""
    priority = f" · Priority: {neutralise(pd.priority)}" if pd.priority else ""
    urgency = neutralise(pd.urgency)
    facts = f"Service: {neutralise(pd.service_name)} · Urgency: {urgency}{priority}"
    text = (
        f"PagerDuty incident triggered: #{pd.number} {neutralise(pd.title)} "
        f"({neutralise(pd.service_name)}, {urgency})"
    )
    blocks = [
        _section(
            f":rotating_light: *PagerDuty incident triggered*\n*{incident_link(pd)}*\n{facts}"
        ),
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": PdAction.DECLARE.value,
                    "text": {"type": "plain_text", "text": "Declare incident"},
                    "style": "danger",
                    "value": declare_button_value(pd, severity),
                }
            ],
        },
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": f"Suggested severity: {severity}"}],
        },
    ]
    return Message(text=truncate(text, 3000), blocks=blocks)


def alert_summary(
    pd: PdIncident, alerts: list[PdAlert], entries: list[PdLogEntry], tta: timedelta | None
) -> Message:
    """Render the compact summary posted on link and on /incident alerts."""
    counts = Counter(a.status for a in alerts)
    by_status = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    lines = [
        f":pager: *{incident_link(pd)}* · {neutralise(pd.service_name)} · "
        f"{neutralise(pd.urgency)} · {neutralise(pd.status)}",
        f"*Alerts:* {len(alerts)}" + (f" ({by_status})" if by_status else ""),
    ]
    triggers = [e.created_at for e in entries if e.action == "trigger"]
    if triggers:
        lines.append(f"*First trigger:* {slack_date(min(triggers))}")
    ackers = list(dict.fromkeys(e.agent for e in entries if e.action == "acknowledge" and e.agent))
    if ackers:
        after = f" (after {duration(tta)})" if tta is not None else ""
        lines.append(f"*Acknowledged by:* {neutralise(', '.join(ackers))}{after}")
    else:
        lines.append("*Acknowledged by:* nobody yet")
    latest = sorted(alerts, key=lambda a: a.created_at, reverse=True)[:5]
    if latest:
        lines.append("*Latest alerts:*")
        lines += [
            f"• {neutralise(truncate(a.summary, 120))} ({a.status}, {slack_date(a.created_at)})"
            for a in latest
        ]
    text = f"PagerDuty #{pd.number}: {len(alerts)} alerts, {pd.status}"
    return Message(text=text, blocks=[_section("\n".join(lines))])


_EVENT_VERBS = {
    "incident.acknowledged": "acknowledged",
    "incident.escalated": "escalated",
    "incident.reassigned": "reassigned",
    "incident.annotated": "annotated",
    "incident.resolved": "resolved",
    "incident.reopened": "reopened",
    "incident.priority_updated": "priority changed",
}


def event_text(
    event_type: str,
    *,
    label: str,
    agent: str | None,
    assignees: tuple[str, ...] = (),
    priority: str | None = None,
    note: str | None = None,
) -> str:
    """Render one line about a PagerDuty event on a linked incident (mrkdwn, neutralised)."""
    verb = _EVENT_VERBS.get(event_type, event_type.removeprefix("incident."))
    text = f":pager: PagerDuty {label} {verb}"
    if event_type == "incident.priority_updated":
        text += f" to {neutralise(priority or 'none')}"
    if event_type in ("incident.escalated", "incident.reassigned") and assignees:
        text += f", now assigned to {neutralise(', '.join(assignees))}"
    if agent:
        text += f" by {neutralise(agent)}"
    if note:
        text += f": {neutralise(truncate(note, 500))}"
    return truncate(text, SECTION_LIMIT)


def oncall_message(people: list[OncallPerson], query: str | None) -> Message:
    """Render who is on call, with a button inviting those found in Slack."""
    scope = f" for {neutralise(query)}" if query else ""
    if not people:
        return Message(text=f"Nobody is on call{scope} right now.")
    lines = [f"*On call now{scope}:*"]
    for p in people:
        who = (
            mention(p.slack_user_id)
            if p.slack_user_id
            else f"{neutralise(p.name)} (not found in Slack)"
        )
        where = neutralise(p.escalation_policy) + f", level {p.escalation_level}"
        lines.append(f"• {who} · {where}" + (f" · {neutralise(p.schedule)}" if p.schedule else ""))
    blocks: list[dict[str, Any]] = [_section("\n".join(lines))]
    ids = list(dict.fromkeys(p.slack_user_id for p in people if p.slack_user_id))
    if ids:
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": PdAction.INVITE_ONCALL.value,
                        "text": {"type": "plain_text", "text": "Invite to this channel"},
                        "value": ",".join(ids)[:2000],
                    }
                ],
            }
        )
    names = neutralise(", ".join(p.name for p in people))
    return Message(text=truncate(f"On call now{scope}: {names}", 3000), blocks=blocks)
