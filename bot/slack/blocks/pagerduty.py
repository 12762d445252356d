"""PagerDuty's Slack messages, as plain text plus Block Kit dicts (pure functions)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from bot.i18n import N_, _
from bot.integrations.ports import Message
from bot.pagerduty.domain import OncallPerson, PdAlert, PdIncident, PdLogEntry
from bot.slack.ids import PagerDutyAction
from bot.text import mention, truncate
from bot.text import neutralise_external as neutralise

SECTION_LIMIT = 3000


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(text, SECTION_LIMIT)}}


def slack_date(at: datetime) -> str:
    """Render a time that Slack shows in each reader's timezone."""
    tokens = _("{date_short_pretty} {time}")  # Slack fills these in, not format()
    return f"<!date^{int(at.timestamp())}^{tokens}|{at.isoformat()}>"


def duration(value: timedelta) -> str:
    """Render a duration as '45s', '12m' or '3h 5m' (or '45초', '12분', '3시간 5분')."""
    seconds = int(value.total_seconds())
    if seconds < 60:
        return _("{n}s", n=seconds)
    if seconds < 3600:
        return _("{n}m", n=seconds // 60)
    return _("{h}h {m}m", h=seconds // 3600, m=seconds % 3600 // 60)


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
    priority = _(" · Priority: {priority}", priority=neutralise(pd.priority)) if pd.priority else ""
    facts = _(
        "Service: {service} · Urgency: {urgency}",
        service=neutralise(pd.service_name),
        urgency=neutralise(pd.urgency),
    )
    text = _(
        "PagerDuty incident triggered: #{number} {title} ({service}, {urgency})",
        number=pd.number,
        title=neutralise(pd.title),
        service=neutralise(pd.service_name),
        urgency=neutralise(pd.urgency),
    )
    blocks = [
        _section(
            _(":rotating_light: *PagerDuty incident triggered*")
            + f"\n*{incident_link(pd)}*\n{facts}{priority}"
        ),
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": PagerDutyAction.DECLARE.value,
                    "text": {"type": "plain_text", "text": _("Declare incident")},
                    "style": "danger",
                    "value": declare_button_value(pd, severity),
                }
            ],
        },
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": _("Suggested severity: {severity}", severity=severity)}
            ],
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
        _("*Alerts:* {count}", count=len(alerts)) + (f" ({by_status})" if by_status else ""),
    ]
    triggers = [e.created_at for e in entries if e.action == "trigger"]
    if triggers:
        lines.append(_("*First trigger:* {date}", date=slack_date(min(triggers))))
    ackers = list(dict.fromkeys(e.agent for e in entries if e.action == "acknowledge" and e.agent))
    if ackers:
        after = _(" (after {duration})", duration=duration(tta)) if tta is not None else ""
        who = neutralise(", ".join(ackers))
        lines.append(_("*Acknowledged by:* {who}", who=who) + after)
    else:
        lines.append(_("*Acknowledged by:* nobody yet"))
    latest = sorted(alerts, key=lambda a: a.created_at, reverse=True)[:5]
    if latest:
        lines.append(_("*Latest alerts:*"))
        lines += [
            f"• {neutralise(truncate(a.summary, 120))} ({a.status}, {slack_date(a.created_at)})"
            for a in latest
        ]
    text = _(
        "PagerDuty #{number}: {count} alerts, {status}",
        number=pd.number,
        count=len(alerts),
        status=pd.status,
    )
    return Message(text=text, blocks=[_section("\n".join(lines))])


_EVENT_VERBS = {
    "incident.acknowledged": N_("acknowledged"),
    "incident.escalated": N_("escalated"),
    "incident.reassigned": N_("reassigned"),
    "incident.annotated": N_("annotated"),
    "incident.resolved": N_("resolved"),
    "incident.reopened": N_("reopened"),
    "incident.priority_updated": N_("priority changed"),
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
    known = event_type in _EVENT_VERBS
    verb = _(_EVENT_VERBS[event_type]) if known else event_type.removeprefix("incident.")
    text = _(":pager: PagerDuty {label} {verb}", label=label, verb=verb)
    if event_type == "incident.priority_updated":
        shown = neutralise(priority) if priority else _("none")
        text += _(" to {priority}", priority=shown)
    if event_type in ("incident.escalated", "incident.reassigned") and assignees:
        text += _(", now assigned to {who}", who=neutralise(", ".join(assignees)))
    if agent:
        text += _(" by {agent}", agent=neutralise(agent))
    if note:
        text += _(": {note}", note=neutralise(truncate(note, 500)))
    return truncate(text, SECTION_LIMIT)


def oncall_message(people: list[OncallPerson], query: str | None) -> Message:
    """Render who is on call, with a button inviting those found in Slack."""
    scope = _(" for {query}", query=neutralise(query)) if query else ""
    if not people:
        return Message(text=_("Nobody is on call{scope} right now.", scope=scope))
    lines = [_("*On call now{scope}:*", scope=scope)]
    for p in people:
        who = (
            mention(p.slack_user_id)
            if p.slack_user_id
            else _("{name} (not found in Slack)", name=neutralise(p.name))
        )
        where = neutralise(p.escalation_policy) + _(", level {level}", level=p.escalation_level)
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
                        "action_id": PagerDutyAction.INVITE_ONCALL.value,
                        "text": {"type": "plain_text", "text": _("Invite to this channel")},
                        "value": ",".join(ids)[:2000],
                    }
                ],
            }
        )
    names = neutralise(", ".join(p.name for p in people))
    text = _("On call now{scope}: {names}", scope=scope, names=names)
    return Message(text=truncate(text, 3000), blocks=blocks)
