"""Render a postmortem from the PagerDuty-style Jinja2 template into markdown and Notion blocks.

Every value a template prints is escaped for markdown unless our own code built it (links),
so Slack messages cannot add structure, links or mentions to the page.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

from bot.i18n import N_, _, current_language, format_when
from bot.incidents.models import Incident, TimelineEntry
from bot.postmortems.notion_blocks import Segment, Trusted, markdown_to_segments, md_escape, md_link
from bot.settings import Settings

log = logging.getLogger(__name__)

BUILTIN_TEMPLATE = Path(__file__).resolve().parent / "templates" / "postmortem.md.j2"
# The built-in template of each language other than English (config/postmortem_template.<lang>.md).
BUILTIN_TEMPLATES = {"ko": BUILTIN_TEMPLATE.with_name("postmortem.ko.md.j2")}

_SLACK_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_SLACK_CHANNEL = re.compile(r"<#[CG][A-Z0-9]+\|([^>]*)>")
_SLACK_SPECIAL = re.compile(r"<!(here|channel|everyone)(?:\|[^>]*)?>")
_SLACK_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]*)>")
_SLACK_BARE_LINK = re.compile(r"<(https?://[^>]+)>")
_SLACK_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


@dataclass(frozen=True)
class SeverityPeriod:
    """A stretch of time the incident spent at one severity."""

    severity: str
    start: datetime
    end: datetime

    @property
    def duration(self) -> timedelta:
        """Return how long the period lasted."""
        return self.end - self.start


@dataclass(frozen=True)
class ActionItem:
    """A follow-up as the action-items section lists it (linked to its Notion page)."""

    label: str
    text: str
    owner: str
    due: str | None
    status: str  # open, done, wont_do
    url: str | None

    @property
    def done(self) -> bool:
        """Say whether the item is closed (done or dropped)."""
        return self.status != "open"


@dataclass(frozen=True)
class TimelineRow:
    """One timeline line as the page shows it."""

    at: datetime
    event: str
    link: str | None


@dataclass
class PostmortemFacts:
    """Everything the bot knows about an incident, ready for the template."""

    number: int
    title: str
    severity: str
    status: str
    declared_at: datetime
    resolved_at: datetime | None
    timezone: str
    owner: str | None
    meeting_at: datetime | None
    channel_name: str | None
    channel_url: str | None
    pagerduty_url: str | None
    summary: str | None
    roles: list[tuple[str, str]] = field(default_factory=list)
    participants: list[str] = field(default_factory=list)
    severity_history: list[SeverityPeriod] = field(default_factory=list)
    timeline: list[TimelineRow] = field(default_factory=list)
    time_to_acknowledge: timedelta | None = None
    time_to_resolve: timedelta | None = None
    action_items: list[ActionItem] = field(default_factory=list)

    def time_in_severity(self) -> list[tuple[str, timedelta]]:
        """Return the total time spent in each severity, in order of first appearance."""
        totals: dict[str, timedelta] = {}
        for period in self.severity_history:
            totals[period.severity] = totals.get(period.severity, timedelta()) + period.duration
        return list(totals.items())


def channel_url(channel_id: str | None) -> str | None:
    """Return a link that opens a Slack channel in any workspace the reader belongs to."""
    return f"https://slack.com/app_redirect?channel={channel_id}" if channel_id else None


def humanize_slack(text: str, names: Mapping[str, str]) -> str:
    """Turn Slack markup (<@U1>, <!here>, <url|label>) into plain words, never live mentions."""
    text = _SLACK_USER.sub(lambda m: "@" + names.get(m.group(1), m.group(1)), text)
    text = _SLACK_CHANNEL.sub(lambda m: "#" + m.group(1), text)
    text = _SLACK_SPECIAL.sub(lambda m: "@" + m.group(1), text)
    text = _SLACK_LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})", text)
    text = _SLACK_BARE_LINK.sub(lambda m: m.group(1), text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _name(user: str | None, names: Mapping[str, str]) -> str:
    if not user:
        return _("someone")
    return names.get(user, user)


def describe_entry(entry: TimelineEntry, names: Mapping[str, str]) -> str:
    """Return the plain-text event description of a timeline entry."""
    who = _name(entry.actor_id, names)
    text = humanize_slack(entry.text or "", names)
    data = entry.data or {}
    kind = entry.kind
    if kind == "severity" and data.get("to"):
        return _(
            "Severity changed from {old} to {new} by {who}",
            old=data.get("from", "?"),
            new=data["to"],
            who=who,
        )
    if kind.startswith("pagerduty_"):
        action = kind.removeprefix("pagerduty_").replace("_", " ")
        return (
            f"PagerDuty {action}"
            + (f": {text}" if text else "")
            + (f" ({who})" if entry.actor_id else "")
        )
    labels = {
        "declared": N_("Declared by {who}"),
        "update": N_("Update from {who}"),
        "status": N_("Status changed by {who}"),
        "role": N_("Role change by {who}"),
        "pin": N_("Pinned by {who}"),
        "pushpin": N_("Marked by {who}"),
        "resolved": N_("Resolved by {who}"),
        "reopened": N_("Reopened by {who}"),
    }
    label = _(labels[kind], who=who) if kind in labels else f"{kind.capitalize()} by {who}"
    return label + (f": {text}" if text else "")


def severity_history(
    incident: Incident, entries: Sequence[TimelineEntry], end: datetime
) -> list[SeverityPeriod]:
    """Return the severity periods from declaration to resolve (or `end`)."""
    changes = [e for e in entries if e.kind == "severity" and (e.data or {}).get("to")]
    current = (changes[0].data or {}).get("from") if changes else None
    current = current or incident.severity
    start = incident.declared_at
    periods = []
    for change in changes:
        at = max(change.occurred_at, start)
        periods.append(SeverityPeriod(current, start, at))
        current, start = change.data["to"], at
    periods.append(SeverityPeriod(current, start, max(end, start)))
    return [p for p in periods if p.duration > timedelta(0) or len(periods) == 1]


def build_facts(
    incident: Incident,
    entries: Sequence[TimelineEntry],
    *,
    names: Mapping[str, str],
    timezone: str,
    now: datetime,
    pagerduty_url: str | None = None,
    meeting_at: datetime | None = None,
    action_items: Sequence[ActionItem] = (),
) -> PostmortemFacts:
    """Gather what the template pre-fills from an incident, its timeline and user names."""
    end = incident.resolved_at or now
    roles = [
        (_(role), _name(user, names))
        for role, user in (
            (N_("Commander"), incident.commander_id),
            (N_("Comms"), incident.comms_id),
            (N_("Scribe"), incident.scribe_id),
        )
        if user
    ]
    role_ids = {incident.commander_id, incident.comms_id, incident.scribe_id}
    participants: list[str] = []
    for entry in entries:
        actor = entry.actor_id
        if actor and actor not in role_ids and _SLACK_ID.match(actor):
            name = _name(actor, names)
            if name not in participants:
                participants.append(name)
    # Log entries say "acknowledge"; webhook events say "acknowledged".
    triggers = [e.occurred_at for e in entries if e.kind in ("pagerduty_trigger",)]
    acks = [
        e.occurred_at
        for e in entries
        if e.kind in ("pagerduty_acknowledge", "pagerduty_acknowledged")
    ]
    started = min([incident.declared_at, *triggers])
    return PostmortemFacts(
        number=incident.number,
        title=incident.title,
        severity=incident.severity,
        status=incident.status,
        declared_at=incident.declared_at,
        resolved_at=incident.resolved_at,
        timezone=timezone,
        owner=_name(incident.commander_id, names) if incident.commander_id else None,
        meeting_at=meeting_at,
        channel_name=incident.channel_name,
        channel_url=channel_url(incident.channel_id),
        pagerduty_url=pagerduty_url,
        summary=humanize_slack(incident.summary, names) if incident.summary else None,
        roles=roles,
        participants=participants,
        severity_history=severity_history(incident, entries, end),
        timeline=[
            TimelineRow(e.occurred_at, describe_entry(e, names), e.permalink) for e in entries
        ],
        time_to_acknowledge=(min(acks) - started) if acks else None,
        time_to_resolve=(incident.resolved_at - started) if incident.resolved_at else None,
        action_items=list(action_items),
    )


# ---- template -----------------------------------------------------------------------------


def format_duration(value: timedelta | None) -> str:
    """Format a duration as '2d 3h 4m' (or 'n/a'), in the current language."""
    if value is None:
        return _("n/a")
    minutes = max(0, int(value.total_seconds() // 60))
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = [_("{n}d", n=days)] if days else []
    if hours or days:
        parts.append(_("{n}h", n=hours))
    parts.append(_("{n}m", n=mins))
    return " ".join(parts)


def _finalize(value: Any) -> Any:
    if isinstance(value, Trusted):
        return value
    if value is None:
        return ""
    return md_escape(value)


def make_environment() -> jinja2.Environment:
    """Build the Jinja2 environment: strict undefined, escaping finalize and date filters."""
    env = jinja2.Environment(
        autoescape=False,
        finalize=_finalize,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )

    def utc(value: datetime | None) -> str:
        return value.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%d %H:%M UTC") if value else ""

    def local(value: datetime | None, tz: str) -> str:
        if not value:
            return ""
        if current_language() != "en":
            return format_when(value, tz)
        return value.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M %Z")

    env.filters.update(utc=utc, local=local, duration=format_duration, link=md_link)
    return env


def builtin_template() -> Path:
    """Return the built-in template of the current language."""
    return BUILTIN_TEMPLATES.get(current_language(), BUILTIN_TEMPLATE)


def template_path(settings: Settings) -> str:
    """Return the template to use: for Korean, config/postmortem_template.ko.md and the like.

    A template the team named explicitly is used as it is, in any language.
    """
    path = Path(settings.postmortem_template)
    if settings.language == "en" or "postmortem_template" in settings.model_fields_set:
        return str(path)
    localized = path.with_name(f"{path.stem}.{settings.language}{path.suffix}")
    builtin = BUILTIN_TEMPLATES.get(settings.language, BUILTIN_TEMPLATE)
    return str(localized if localized.is_file() else builtin)


def load_template(path: str | None) -> str:
    """Return the team's template text, or the built-in copy when the file is missing."""
    if path:
        candidate = Path(path)
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    return builtin_template().read_text(encoding="utf-8")


def render_markdown(facts: PostmortemFacts, *, template: str) -> str:
    """Render the postmortem template with the facts; a broken team template falls back.

    A typo in the team's template must not stop postmortems: the built-in template is used
    and the problem is logged.
    """
    try:
        return make_environment().from_string(template).render(pm=facts)
    except jinja2.TemplateError as exc:
        log.error("postmortem template failed (%s); using the built-in template", exc)
        builtin = builtin_template().read_text(encoding="utf-8")
        return make_environment().from_string(builtin).render(pm=facts)


def render_segments(facts: PostmortemFacts, *, template: str) -> list[Segment]:
    """Render the postmortem into Notion blocks grouped by generated region."""
    return markdown_to_segments(render_markdown(facts, template=template))
