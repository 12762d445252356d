"""`sevbot demo --play`: type as a Slack user against the running bot and the fakes.

Lines are read from standard input, so a person at a terminal and a test piping a script
are served alike. Between lines the conversation keeps flowing: nudges fire at demo speed.
"""

from __future__ import annotations

import select
import sys
import time
from typing import IO, Any

from rich.console import Console
from rich.markup import escape

from bot.demo.actors import DemoError, PagerDutyActor, SlackActor, modal_inputs
from bot.demo.transcript import Transcript
from bot.demo.world import World
from bot.i18n import N_, _

HELP = N_("""\
Type as a Slack user:
  /incident …          a slash command in the current channel (try /incident declare sev2 결제 지연)
  [Label]              click the most recent button with that label (e.g. [Post update])
  #channel             go to a channel (a prefix is enough: #inc-1)
  as <name>            type as another person: {people}
  pd <title>           PagerDuty triggers an incident and sends its webhook
  wait <seconds>       let time pass and watch (nudges come at demo speed)
  help                 this help
  quit                 stop (so does Ctrl-D)
Anything else is posted as a plain message in the current channel.""")
QUIET = 0.8  # the bot is done answering when Slack has seen no call for this long
SETTLE_MAX = 8.0


class Player:
    """Read lines, act as the chosen person, and show the bot's answers."""

    def __init__(
        self, world: World, transcript: Transcript, console: Console, stdin: IO[str]
    ) -> None:
        self.world = world
        self.t = transcript
        self.console = console
        self.stdin = stdin
        self.slack = SlackActor(world, transcript)
        self.pd = PagerDutyActor(world, transcript)
        self.user = world.people.alice
        self.channel = world.incidents_channel

    # ---- input ----------------------------------------------------------------
    def _prompt(self, text: str) -> None:
        self.console.print(text, end="", markup=False, highlight=False)
        self.console.file.flush()

    def read_line(self, prompt: str) -> str | None:
        """Show the prompt and return the next line (None at end of input), flushing meanwhile."""
        self.t.flush()
        self._prompt(prompt)
        while True:
            try:
                ready = select.select([self.stdin], [], [], 0.3)[0]
            except (ValueError, OSError):  # no selectable stream (e.g. an in-memory one)
                ready = [self.stdin]
            if ready:
                line = self.stdin.readline()
                if not self.stdin.isatty():
                    self.console.print(line.rstrip("\n"), markup=False, highlight=False)
                return line.rstrip("\n") if line else None
            before = len(self.t.lines)
            self.t.flush()
            if len(self.t.lines) != before:  # something arrived meanwhile: prompt again
                self._prompt(prompt)

    def settle(self) -> None:
        """Wait until the bot has stopped calling Slack for a moment, showing what it did."""
        deadline = time.monotonic() + SETTLE_MAX
        count, quiet_since = len(self.world.slack.requests), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.1)
            self.t.flush()
            now = len(self.world.slack.requests)
            if now != count:
                count, quiet_since = now, time.monotonic()
            elif time.monotonic() - quiet_since >= QUIET:
                break
        self.t.flush()

    def help_text(self) -> str:
        """Return the help, naming the people of this demo."""
        names = [self.t.user_name(uid) for uid in self.world.people.names]
        return _(HELP, people=", ".join(names))

    # ---- commands -----------------------------------------------------------
    def prompt_text(self) -> str:
        """Return the prompt: who types, where."""
        channel = self.t.channel_label(self.world.slack.channel(self.channel))
        return f"{self.t.user_name(self.user)} in {channel}> "

    def handle(self, line: str) -> bool:
        """Act on one line; return False to stop."""
        text = line.strip()
        if not text:
            return True
        lowered = text.casefold()
        if lowered in ("quit", "exit", "q"):
            return False
        if lowered in ("help", "?"):
            self.console.print(self.help_text(), markup=False, highlight=False)
        elif text.startswith("/"):
            command, _space, rest = text.partition(" ")
            if command != "/incident":
                self.say_error(
                    _("Only /incident is installed here, not {command}.", command=command)
                )
            else:
                self.slack.command(self.user, self.channel, rest)
                self.settle()
        elif text.startswith("[") and text.endswith("]"):
            self.click(text[1:-1])
        elif text.startswith("#"):
            self.go(text[1:])
        elif lowered.startswith("as "):
            self.become(text[3:].strip().lstrip("@"))
        elif lowered.startswith("pd "):
            self.pd.trigger(text[3:].strip() or "Something is on fire")
            self.settle()
        elif lowered.startswith("wait"):
            self.wait(text[4:].strip())
        else:
            self.slack.say(self.user, self.channel, text)
            self.settle()
        return True

    def say_error(self, message: str) -> None:
        """Tell the player what was wrong with their line."""
        self.console.print(f"[red]{escape(message)}[/red]")

    def go(self, name: str) -> None:
        """Switch to the channel whose name starts with the given text."""
        wanted = name.strip().casefold()
        matches = [
            c
            for c in self.world.slack.channels()
            if not c.get("is_im") and str(c.get("name", "")).casefold().startswith(wanted)
        ]
        exact = [c for c in matches if str(c.get("name", "")).casefold() == wanted]
        chosen = exact or matches
        if not chosen:
            names = ", ".join(
                "#" + str(c["name"]) for c in self.world.slack.channels() if not c.get("is_im")
            )
            self.say_error(
                _("No channel starts with #{name}. Channels: {names}", name=name, names=names)
            )
            return
        self.channel = str(chosen[-1]["id"])
        if self.user not in chosen[-1].get("members", []):
            self.say_error(
                _("({name} is not a member there yet.)", name=self.t.user_name(self.user))
            )

    def become(self, name: str) -> None:
        """Type as another person of the workspace."""
        people = {self.t.user_name(uid): uid for uid in self.world.people.names}
        if name not in people:
            self.say_error(
                _("Nobody called {name}. People: {people}", name=name, people=", ".join(people))
            )
            return
        self.user = people[name]

    def wait(self, amount: str) -> None:
        """Let time pass, showing what the bot posts meanwhile."""
        try:
            seconds = float(amount or "5")
        except ValueError:
            self.say_error(_("wait takes a number of seconds, not {amount}", amount=repr(amount)))
            return
        deadline = time.monotonic() + min(max(seconds, 0.0), 120.0)
        while time.monotonic() < deadline:
            time.sleep(0.1)
            self.t.flush()

    def click(self, label: str) -> None:
        """Click the most recent button with that label, here if there is one, else anywhere."""
        button = self.t.find_button(label, channel_id=self.channel) or self.t.find_button(label)
        if button is None:
            shown = sorted({f"[{b.label}]" for b in self.t.buttons})
            self.say_error(
                _(
                    "No button [{label}] to click. Buttons: {buttons}",
                    label=label,
                    buttons=" ".join(shown) or _("none"),
                )
            )
            return
        view = self.slack.click(self.user, button)
        if view is not None:
            overrides = self.fill(view)
            if overrides is None:
                self.console.print(_("(modal closed)"))
                return
            self.slack.submit(self.user, view, overrides)
        self.settle()

    def fill(self, view: dict[str, Any]) -> dict[str, Any] | None:
        """Ask for each input of a modal (Enter keeps the value shown); None cancels."""
        overrides: dict[str, Any] = {}
        for block_id, label, kind, initial in modal_inputs(view):
            shown = self._shown(initial)
            answer = self.read_line(f"    {label}{f' [{shown}]' if shown else ''}: ")
            if answer is None:
                return None
            answer = answer.strip()
            if not answer:
                continue
            if kind in ("users_select", "multi_users_select"):
                ids = [self._user_id(n) for n in answer.replace(",", " ").split()]
                known = [uid for uid in ids if uid]
                if kind == "multi_users_select":
                    overrides[block_id] = known
                elif known:
                    overrides[block_id] = known[0]
            else:
                overrides[block_id] = answer
        return overrides

    def _shown(self, initial: Any) -> str:
        if isinstance(initial, list):
            return ", ".join(self._shown(i) for i in initial)
        if (
            isinstance(initial, str)
            and initial[:1] in ("U", "W")
            and initial in self.world.people.names
        ):
            return "@" + self.t.user_name(initial)
        return "" if initial is None else str(initial)

    def _user_id(self, name: str) -> str | None:
        people = {self.t.user_name(uid): uid for uid in self.world.people.names}
        return people.get(name.strip().lstrip("@"))


def play_loop(
    world: World, transcript: Transcript, console: Console, stdin: IO[str] | None = None
) -> None:
    """Run the prompt until quit or end of input."""
    player = Player(world, transcript, console, stdin or sys.stdin)
    console.print(player.help_text(), markup=False, highlight=False)
    console.print(
        _("The bot, the scheduler and the fakes are running; nudges come after a few seconds.")
    )
    while True:
        line = player.read_line(player.prompt_text())
        if line is None:
            console.print()
            return
        try:
            if not player.handle(line):
                return
        except DemoError as exc:
            player.say_error(str(exc))
