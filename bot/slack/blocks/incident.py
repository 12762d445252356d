"""Pure Block Kit builders for incident messages: domain snapshots in, dicts out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.i18n import _, status_label
from bot.incidents.domain import IncidentSnapshot
from bot.slack.blocks.followups import add_button as add_followup_button
from bot.slack.ids import IncidentAction, IncidentBlock
from bot.text import format_duration, neutralise, neutralise_plain, truncate
from bot.text import mention as user_mention

HEADER_MAX = 150
SECTION_MAX = 3000
MAX_BLOCKS = 50

STATUS_EMOJI = {
    "investigating": ":mag:",
    "identified": ":bulb:",
    "monitoring": ":eyes:",
    "resolved": ":white_check_mark:",
}


def mention(user_id: str | None) -> str:
    """Render a user mention, or an em dash when nobody holds the role."""
    return user_mention(user_id) if user_id else "—"


def header(text: str) -> dict[str, Any]:
    """Build a header block, cut to Slack's 150-character limit."""
    safe = truncate(neutralise_plain(text), HEADER_MAX)
    return HeaderBlock(text=PlainTextObject(text=safe, emoji=True)).to_dict()


def section(markdown: str, *, fields: list[str] | None = None) -> dict[str, Any]:
    """Build a mrkdwn section, cut to Slack's 3,000-character limit."""
    block = SectionBlock(
        text=MarkdownTextObject(text=truncate(markdown, SECTION_MAX)) if markdown else None,
        fields=[MarkdownTextObject(text=truncate(f, 2000)) for f in fields] if fields else None,
    )
    return block.to_dict()


def context(markdown: str) -> dict[str, Any]:
    """Build a context line."""
    return ContextBlock(
        elements=[MarkdownTextObject(text=truncate(markdown, SECTION_MAX))]
    ).to_dict()


def incident_actions(incident: IncidentSnapshot) -> dict[str, Any]:
    """Build the Post update / Change severity / Resolve buttons."""
    value = str(incident.id)
    buttons = [
        ButtonElement(
            text=_("Post update"),
            action_id=IncidentAction.POST_UPDATE,
            value=value,
            style="primary",
        ),
        ButtonElement(
            text=_("Change severity"), action_id=IncidentAction.CHANGE_SEVERITY, value=value
        ),
    ]
    if incident.is_open:
        buttons.append(
            ButtonElement(
                text=_("Resolve"), action_id=IncidentAction.RESOLVE, value=value, style="danger"
            )
        )
    return ActionsBlock(block_id=IncidentBlock.ACTIONS, elements=buttons).to_dict()


def _role_fields(incident: IncidentSnapshot) -> list[str]:
    return [
        _("*Severity*\n{severity}", severity=incident.severity),
        _("*Status*\n{emoji} {status}", emoji=STATUS_EMOJI.get(incident.status, ""),
          status=status_label(incident.status)),
        _("*Commander*\n{user}", user=mention(incident.commander_id)),
        _("*Comms*\n{user}", user=mention(incident.comms_id)),
        _("*Scribe*\n{user}", user=mention(incident.scribe_id)),
        _("*Reporter*\n{user}", user=mention(incident.reporter_id)),
    ]  # fmt: skip


def kickoff_blocks(incident: IncidentSnapshot) -> list[dict[str, Any]]:
    """Build the pinned kickoff message of an incident channel."""
    blocks = [
        header(f"{incident.label}: {incident.title}"),
        section("", fields=_role_fields(incident)),
    ]
    if incident.description:
        blocks.append(section(_("*Description*\n{text}", text=neutralise(incident.description))))
    blocks.append(
        context(
            _(
                "Post updates with `/incident update <text>`. "
                "Change things with `/incident sev|status|role`. `/incident help` lists everything."
            )
        )
    )
    blocks.append(incident_actions(incident))
    return blocks


def kickoff_text(incident: IncidentSnapshot) -> str:
    """Return the notification text of the kickoff message."""
    return f"{incident.label} ({incident.severity}): {neutralise(incident.title)}"


def channel_link(incident: IncidentSnapshot) -> str:
    """Render a link to the incident channel."""
    return f"<#{incident.channel_id}>" if incident.channel_id else _("(channel being created)")


def announcement_blocks(incident: IncidentSnapshot) -> list[dict[str, Any]]:
    """Build the announcement in the incidents channel (edited in place on every change)."""
    if incident.is_private:
        return private_notice_blocks(incident)
    title = neutralise(incident.title)
    lines = [
        _("*Resolved:* {title}", title=title)
        if not incident.is_open
        else _("*Declared:* {title}", title=title),
        _("*Channel:* {channel}", channel=channel_link(incident)),
    ]
    if incident.resolved_at:
        duration = (incident.resolved_at - incident.declared_at).total_seconds()
        lines.append(_("*Duration:* {duration}", duration=format_duration(duration)))
    return [
        header(f"{incident.label} · {incident.severity} · {status_label(incident.status)}"),
        section("\n".join(lines), fields=_role_fields(incident)[2:4]),
        context(
            _(
                "Declared by {user} · {date}",
                user=mention(incident.reporter_id),
                date=_slack_date(incident.declared_at),
            )
        ),
    ]


def private_notice_blocks(incident: IncidentSnapshot) -> list[dict[str, Any]]:
    """Build the redacted notice of a private incident: number, severity, commander, no title."""
    kind = "security" if incident.is_security else "private"
    return [
        header(f"{incident.label} · {incident.severity} · {incident.status}"),
        section(
            f"A {kind} incident; its details stay in its private channel.",
            fields=[f"*Commander*\n{mention(incident.commander_id)}"],
        ),
    ]


def announcement_text(incident: IncidentSnapshot) -> str:
    """Return the notification text of the announcement."""
    status = status_label(incident.status)
    if incident.is_private:
        return f"{incident.label} {incident.severity} {status} (private incident)"
    return f"{incident.label} {incident.severity} {status}: {neutralise(incident.title)}"


def topic_text(incident: IncidentSnapshot) -> str:
    """Return the channel topic: severity · status · commander."""
    return _(
        "{severity} · {status} · Commander: {user}",
        severity=incident.severity,
        status=status_label(incident.status),
        user=mention(incident.commander_id),
    )


def update_blocks(incident: IncidentSnapshot, text: str, author_id: str) -> list[dict[str, Any]]:
    """Build a status update message."""
    return [
        section(
            _(
                ":loudspeaker: *Update on {label}* ({severity}, {status})",
                label=incident.label,
                severity=incident.severity,
                status=status_label(incident.status),
            )
        ),
        section(neutralise(text)),
        context(_("Posted by {user}", user=mention(author_id))),
    ]


def notice_blocks(incident: IncidentSnapshot, change: str, actor_id: str) -> list[dict[str, Any]]:
    """Build the message stating a change in the incident channel."""
    return [
        section(
            _(
                ":arrows_counterclockwise: {change} (by {user})",
                change=neutralise(change),
                user=mention(actor_id),
            )
        )
    ]


def resolved_blocks(
    incident: IncidentSnapshot, highest: str, duration_seconds: float
) -> list[dict[str, Any]]:
    """Build the summary posted on resolve: duration, highest severity, roles."""
    fields = [
        _("*Duration*\n{duration}", duration=format_duration(duration_seconds)),
        _("*Highest severity*\n{severity}", severity=highest),
        *_role_fields(incident)[2:],
    ]
    blocks = [header(_("{label} resolved", label=incident.label)), section("", fields=fields)]
    if incident.summary:
        blocks.append(section(_("*Summary*\n{text}", text=neutralise(incident.summary))))
    blocks.append(add_followup_button(incident.id))
    return blocks


def setup_problem_text(incident: IncidentSnapshot, problem: str, final: bool) -> str:
    """Explain to the reporter that the channel setup hit a problem."""
    values = {"label": incident.label, "title": neutralise(incident.title), "problem": problem}
    if final:
        return _(
            "{label} ({title}) is recorded, but setting up Slack failed: {problem}. sevbot has "
            "stopped retrying; please create the channel by hand or ask an admin.",
            **values,
        )
    return _(
        "{label} ({title}) is recorded, but setting up Slack failed: {problem}. sevbot keeps "
        "retrying in the background; nothing is lost.",
        **values,
    )


def incident_list_blocks(incidents: list[IncidentSnapshot], now: datetime) -> list[dict[str, Any]]:
    """Build the list of active incidents (for /incident list and App Home)."""
    if not incidents:
        return [section(_(":white_check_mark: No active incidents."))]
    blocks: list[dict[str, Any]] = [
        section(_("*Active incidents ({count})*", count=len(incidents))),
        DividerBlock().to_dict(),
    ]
    shown = incidents[: (MAX_BLOCKS - 3)]
    for incident in shown:
        age = format_duration((now - incident.declared_at).total_seconds())
        last = incident.last_update_at
        since = (
            _("{duration} ago", duration=format_duration((now - last).total_seconds()))
            if last
            else _("no update yet")
        )
        blocks.append(
            section(
                f"*{incident.label}* {channel_link(incident)} · "
                f"{incident.severity} · {status_label(incident.status)}\n"
                f"{neutralise(incident.title)}\n"
                + _(
                    "Commander {user} · age {age} · last update {since}",
                    user=mention(incident.commander_id),
                    age=age,
                    since=since,
                )
            )
        )
    if len(incidents) > len(shown):
        blocks.append(context(_("…and {count} more.", count=len(incidents) - len(shown))))
    return blocks


def _slack_date(moment: datetime) -> str:
    epoch = int(moment.timestamp())
    return f"<!date^{epoch}^{{date_short_pretty}} {{time}}|{moment.isoformat(timespec='minutes')}>"
