"""Show the fake Slack workspace as a person would see it: channel by channel, with authors.

The transcript reads only what the bot wrote to the fake Slack (messages, edits, ephemeral
messages, modals) plus what the demo's people typed, so the terminal shows the real output.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.rule import Rule

from bot.fakes.slack import FakeSlack
from bot.i18n import _, format_when

_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL = re.compile(r"<#([CG][A-Z0-9]+)(?:\|([^>]*))?>")
_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]*)>")
_BARE = re.compile(r"<(https?://[^>]+)>")
_SPECIAL = re.compile(r"<!(here|channel|everyone)(?:\|[^>]*)?>")
_DATE = re.compile(r"<!date\^(\d+)\^[^|>]*\|([^>]*)>")
READER_TIMEZONE = "Asia/Seoul"  # the demo's people are in Seoul
_BOLD = re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])")


def _slack_date(match: re.Match[str]) -> str:
    """Show a <!date^…> token as Slack would: in the reader's time zone and language."""
    moment = datetime.fromtimestamp(int(match.group(1)), tz=UTC)
    return format_when(moment, READER_TIMEZONE)


def styled(plain: str) -> str:
    """Return rich markup for a line of Slack text: escaped, with *bold* kept bold."""
    return _BOLD.sub(r"[bold]\1[/bold]", escape(plain))


@dataclass(frozen=True)
class Button:
    """A button the bot showed, as a block_actions entry needs it."""

    label: str
    action_id: str
    block_id: str
    value: str
    channel_id: str
    message: dict[str, Any]

    def action(self) -> dict[str, Any]:
        """Return the clicked-button entry of a block_actions payload."""
        return {
            "type": "button",
            "action_id": self.action_id,
            "block_id": self.block_id,
            "text": {"type": "plain_text", "text": self.label, "emoji": True},
            "value": self.value,
        }


def buttons_of(message: dict[str, Any], channel_id: str) -> list[Button]:
    """Return the buttons of a message's actions blocks (and section accessories)."""
    found: list[Button] = []
    for block in message.get("blocks") or []:
        elements = list(block.get("elements") or []) if block.get("type") == "actions" else []
        if block.get("accessory"):
            elements.append(block["accessory"])
        for element in elements:
            if element.get("type") == "button":
                found.append(
                    Button(
                        label=str(element.get("text", {}).get("text", "")),
                        action_id=str(element.get("action_id", "")),
                        block_id=str(block.get("block_id", "")),
                        value=str(element.get("value", "")),
                        channel_id=channel_id,
                        message=message,
                    )
                )
    return found


class Transcript:
    """Print what is new in the fake workspace since the last flush."""

    def __init__(self, slack: FakeSlack, console: Console) -> None:
        self.slack = slack
        self.console = console
        self._seen: dict[tuple[str, str], str] = {}
        self._ephemeral_seen: dict[str, int] = {}
        self._views_seen: set[str] = set()
        self._current: str | None = None
        self.buttons: list[Button] = []
        self.lines: list[str] = []  # plain text of everything printed, for tests and --play

    # ---- names ------------------------------------------------------------

    def user_name(self, user_id: str | None) -> str:
        """Return a member's display name."""
        if not user_id:
            return "?"
        if user_id == self.slack.bot_user_id:
            return "sevbot"
        try:
            return str(self.slack.user(user_id)["name"])
        except KeyError:
            return user_id

    def channel_label(self, channel: dict[str, Any]) -> str:
        """Return '#name', or 'DM · name' for a direct message."""
        if channel.get("is_im"):
            return f"DM · sevbot → {self.user_name(channel.get('user'))}"
        return f"#{channel.get('name')}"

    def slack_text(self, text: str) -> str:
        """Turn Slack mrkdwn references into what a reader sees."""
        text = _USER.sub(lambda m: "@" + self.user_name(m.group(1)), text)
        text = _CHANNEL.sub(lambda m: "#" + (m.group(2) or self._channel_name(m.group(1))), text)
        text = _LINK.sub(lambda m: m.group(2), text)
        text = _BARE.sub(lambda m: m.group(1), text)
        text = _SPECIAL.sub(lambda m: "@" + m.group(1), text)
        text = _DATE.sub(_slack_date, text)
        return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")

    def _channel_name(self, channel_id: str) -> str:
        try:
            return str(self.slack.channel(channel_id)["name"])
        except KeyError:
            return channel_id

    # ---- printing ---------------------------------------------------------
    def _print(self, markup: str, plain: str) -> None:
        self.console.print(markup, highlight=False)
        self.lines.append(plain)

    def heading(self, text: str) -> None:
        """Print a story step heading."""
        self.console.print()
        self.console.print(Rule(f"[bold]{escape(text)}[/bold]", style="cyan"))
        self.lines.append(f"== {text}")
        self._current = None

    def note(self, text: str) -> None:
        """Print a narrator's line (what happens outside Slack)."""
        self._print(f"[dim italic]{escape(text)}[/dim italic]", text)

    def _switch(self, channel_id: str, label: str) -> None:
        if self._current != channel_id:
            self._current = channel_id
            self._print(f"\n[bold magenta]{escape(label)}[/bold magenta]", label)

    def typed(self, channel_id: str, user_id: str, text: str) -> None:
        """Show what a person typed or did in a channel."""
        self._switch(channel_id, self.channel_label(self.slack.channel(channel_id)))
        name = self.user_name(user_id)
        text = self.slack_text(text)
        self._print(
            f"  [bold green]{escape(name)}[/bold green]  {escape(text)}", f"  {name}  {text}"
        )

    def clicked(self, channel_id: str, user_id: str, label: str) -> None:
        """Show a person clicking a button."""
        self.typed(channel_id, user_id, _("clicks [{label}]", label=label))

    def reply(self, channel_id: str, user_id: str, text: str) -> None:
        """Show the bot's immediate (ephemeral) answer to a slash command."""
        self._switch(channel_id, self.channel_label(self.slack.channel(channel_id)))
        self._show_ephemeral(user_id, text)

    def _show_ephemeral(self, user_id: str, text: str) -> None:
        only = _("(only visible to {name})", name=self.user_name(user_id))
        shown = self.slack_text(text)
        self._print(
            f"  [bold cyan]sevbot[/bold cyan] [dim]{escape(only)}[/dim]  {styled(shown)}",
            f"  sevbot {only}  {shown}",
        )

    def _show_message(
        self, channel_id: str, message: dict[str, Any], *, edited: bool = False
    ) -> None:
        author = self.user_name(message.get("user"))
        is_bot = bool(message.get("bot_id")) or message.get("user") == self.slack.bot_user_id
        style = "bold cyan" if is_bot else "bold green"
        edit_mark = _("(edited)")
        tag = f" [dim]{escape(edit_mark)}[/dim]" if edited else ""
        thread = (
            "  ↳ "
            if message.get("thread_ts") and message.get("thread_ts") != message.get("ts")
            else "  "
        )
        body = self._body(message)
        first, *rest = body.splitlines() or [""]
        app = " APP" if is_bot else ""
        self._print(
            f"{thread}[{style}]{escape(author)}[/{style}]{app}{tag}  {styled(first)}",
            f"{thread}{author}{' ' + edit_mark if edited else ''}  {first}",
        )
        for line in rest:
            self._print(f"{thread}    {styled(line)}", f"{thread}    {line}")
        labels = [b.label for b in buttons_of(message, channel_id)]
        if labels:
            rendered = " ".join(
                f"[bold blue]{escape(f'[{label}]')}[/bold blue]" for label in labels
            )
            self._print(
                f"{thread}    {rendered}", thread + "    " + " ".join(f"[{x}]" for x in labels)
            )

    def _body(self, message: dict[str, Any]) -> str:
        lines: list[str] = []
        for block in message.get("blocks") or []:
            kind = block.get("type")
            if kind in ("section", "header") and block.get("text"):
                lines.append(self.slack_text(str(block["text"].get("text", ""))))
            fields = [self._field(str(f.get("text", ""))) for f in block.get("fields") or []]
            if fields:
                lines.append(" · ".join(fields))
            if kind == "context":
                texts = [str(e.get("text", "")) for e in block.get("elements") or []]
                lines.append(self.slack_text(" · ".join(t for t in texts if t)))
            if kind == "rich_text":
                lines.append(self.slack_text(message.get("text", "")))
        if not lines:
            lines.append(self.slack_text(str(message.get("text", ""))))
        for file in message.get("files") or []:
            lines.append(f"📎 {file.get('name')} ({file.get('title') or file.get('filetype', '')})")
        return "\n".join(line for line in lines if line.strip())

    def _field(self, text: str) -> str:
        label, _, value = self.slack_text(text).partition("\n")
        label = label.strip("*")
        return f"*{label}*: {value.replace(chr(10), ' ')}" if value else label

    def _show_view(self, view: dict[str, Any]) -> None:
        title = str((view.get("title") or {}).get("text", ""))
        submit = str((view.get("submit") or {}).get("text", ""))
        modal = _("modal")
        self._print(
            f"  [bold yellow]▣ {escape(modal)}[/bold yellow] “{escape(title)}”"
            + (f"  [bold blue]{escape(f'[{submit}]')}[/bold blue]" if submit else ""),
            f"  {modal} “{title}” [{submit}]",
        )

    def mark_seen(self, channel_id: str, ts: str) -> None:
        """Remember a message the demo already showed (what a person typed)."""
        for message in self.slack.messages(channel_id):
            if str(message.get("ts")) == ts:
                self._seen[(channel_id, ts)] = self._fingerprint(message)

    @staticmethod
    def _fingerprint(message: dict[str, Any]) -> str:
        return json.dumps(
            [message.get("text"), message.get("blocks"), message.get("files")],
            sort_keys=True,
            default=str,
        )

    def flush(self) -> None:
        """Print every new or edited message, ephemeral message and modal, oldest first."""
        events: list[tuple[float, int, Any]] = []
        self.buttons = []
        for channel in self.slack.channels():
            cid = str(channel["id"])
            for message in self.slack.messages(cid):
                key = (cid, str(message.get("ts")))
                fingerprint = self._fingerprint(message)
                self.buttons.extend(buttons_of(message, cid))
                previous = self._seen.get(key)
                if previous == fingerprint:
                    continue
                self._seen[key] = fingerprint
                kind = 0 if previous is None else 1
                events.append((float(message.get("ts") or 0), kind, (channel, message)))
            shown = self._ephemeral_seen.get(cid, 0)
            ephemeral = self.slack.ephemeral_messages(cid)
            for message in ephemeral[shown:]:
                events.append((float(message.get("ts") or 0), 2, (channel, message)))
            self._ephemeral_seen[cid] = len(ephemeral)
        for view_id, view in self.slack.views.items():
            if view_id not in self._views_seen and view.get("type") == "modal":
                self._views_seen.add(view_id)
                events.append((0.0, 3, view))
        for _ts, kind, item in sorted(events, key=lambda e: (e[0], e[1])):
            if kind == 3:
                self._show_view(item)
                continue
            channel, message = item
            self._switch(str(channel["id"]), self.channel_label(channel))
            if kind == 2:
                self._show_ephemeral(str(message.get("user")), str(message.get("text", "")))
            else:
                self._show_message(str(channel["id"]), message, edited=kind == 1)

    def find_button(self, label: str, *, channel_id: str | None = None) -> Button | None:
        """Return the most recent button with this label (case-insensitive), if any."""
        self.flush()
        wanted = label.strip().strip("[]").strip().casefold()
        for button in reversed(self.buttons):
            if button.label.casefold() == wanted and channel_id in (None, button.channel_id):
                return button
        return None
