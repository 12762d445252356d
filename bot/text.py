"""Plain-text helpers shared by the domain and the renderers (no vendor imports)."""

from __future__ import annotations

import re
import unicodedata

_ALLOWED_ANGLE = re.compile(r"<(@[UW][A-Z0-9]+(?:\|[^<>]*)?|#C[A-Z0-9]+(?:\|[^<>]*)?)>")
_BROADCAST = re.compile(r"@(channel|here|everyone)\b", re.IGNORECASE)
ZWSP = "\u200b"


def neutralise(text: str) -> str:
    """Escape user text for Slack mrkdwn so it cannot broadcast or inject links.

    User mentions (<@U…>) and channel links (<#C…>) stay; <!channel>, <!here>, <!everyone>,
    <!subteam…>, disguised links and a plain @channel/@here/@everyone become inert text.
    """
    kept: list[str] = []

    def keep(match: re.Match[str]) -> str:
        kept.append(match.group(0))
        return f"\x00{len(kept) - 1}\x00"

    text = _ALLOWED_ANGLE.sub(keep, text.replace("\x00", ""))
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _BROADCAST.sub(lambda m: "@" + ZWSP + m.group(1), text)
    return re.sub(r"\x00(\d+)\x00", lambda m: kept[int(m.group(1))], text)


def neutralise_external(text: str) -> str:
    """Escape text from outside Slack (PagerDuty, Notion) for mrkdwn: nothing in it stays live.

    Unlike ``neutralise`` it keeps no mentions or channel links: a PagerDuty title or note
    that contains ``<@U…>`` is shown, not used to ping someone.
    """
    text = text.replace("\x00", "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _BROADCAST.sub(lambda m: "@" + ZWSP + m.group(1), text)


def neutralise_plain(text: str) -> str:
    """Make plain_text inert too: Slack shows it literally, but copies of it must not broadcast."""
    text = text.replace("<!", "<" + ZWSP + "!")
    return _BROADCAST.sub(lambda m: "@" + ZWSP + m.group(1), text)


_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def clean_text(text: str) -> str:
    """Drop what no one types on purpose: control characters (tab and newline stay),
    bidirectional overrides that disguise text, and lone surrogates no database can store."""
    return _INVISIBLE.sub("", text)


def truncate(text: str, limit: int) -> str:
    """Cut text to at most limit characters, marking the cut with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def slugify(title: str, *, max_length: int = 60) -> str:
    """Turn a title into a channel-name slug of a-z, 0-9 and hyphens ('' if nothing is left)."""
    ascii_text = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-")


def channel_name(template: str, *, number: int, title: str, suffix: str = "") -> str:
    """Build a valid Slack channel name (≤80 chars) from the configured template."""
    slug = slugify(title) or "incident"
    base = template.format(number=number, slug=slug)
    base = re.sub(r"[^a-z0-9_-]+", "-", base.lower()).strip("-")
    limit = 80 - len(suffix)
    return base[:limit].rstrip("-") + suffix


def normalise_severity(raw: str, names: list[str]) -> str | None:
    """Map '1', 'sev1', 'SEV-1' or 'sev-1' to a configured severity name, or None."""
    candidate = raw.strip().upper().replace("_", "-")
    if candidate.isdigit():
        candidate = f"SEV-{candidate}"
    candidate = re.sub(r"^SEV-?(\d+)$", r"SEV-\1", candidate)
    for name in names:
        if name.upper() == candidate:
            return name
    return None


_UNITS = {
    "en": ("d", "h", "m", "s"),
    "ko": ("일", "시간", "분", "초"),
}


def duration_value(seconds: float) -> str:
    """Render a duration as a setting would be written: '2d 3h', '1h 5m' or '42s'."""
    return _duration(seconds, _UNITS["en"])


def format_duration(seconds: float) -> str:
    """Render a duration for people, in the current language: '2d 3h' or '2일 3시간'."""
    from bot.i18n import current_language

    return _duration(seconds, _UNITS.get(current_language(), _UNITS["en"]))


def _duration(seconds: float, units: tuple[str, str, str, str]) -> str:
    day, hour, minute, second = units
    seconds = int(max(seconds, 0))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, day), (hours, hour), (minutes, minute)]
    shown = [f"{value}{unit}" for value, unit in parts if value][:2]
    return " ".join(shown) if shown else f"{secs}{second}"


UNKNOWN_USER = "(unknown user)"
_SLACK_ID = re.compile(r"^[A-Z][A-Z0-9]{1,39}$")


def is_slack_id(value: object) -> bool:
    """Say whether a value looks like a Slack id (U…, W…, C…, T…): capitals and digits only."""
    return isinstance(value, str) and bool(_SLACK_ID.match(value))


def mention(user_id: object) -> str:
    """Render a user mention, or inert text when the value is not a Slack user id.

    A stored id of ``<!channel>`` would otherwise become ``<@<!channel>>`` and ping everyone.
    """
    if is_slack_id(user_id) and str(user_id)[0] in "UW":
        return f"<@{user_id}>"
    return UNKNOWN_USER
