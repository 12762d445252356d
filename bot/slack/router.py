"""The /incident subcommand registry, and the typed follow-ups subcommands leave for later."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec

from bot.i18n import _

if TYPE_CHECKING:
    from bot.deps import Deps


P = ParamSpec("P")
FollowupRunner = Callable[..., None]


@dataclass(frozen=True)
class CommandInput:
    """One /incident invocation, parsed from Slack's form fields."""

    name: str
    args: str
    user_id: str
    channel_id: str
    trigger_id: str


@dataclass(frozen=True)
class Followup:
    """Slow work to run after the ack: a module-level function, called as run(deps, **args).

    The arguments stay plain values (ids, strings), so Bolt can copy them to a lazy listener.
    """

    run: FollowupRunner
    args: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """Return the runner's name (it names the follow-up's span and log lines)."""
        return self.run.__name__


def followup(
    run: Callable[Concatenate[Deps, P], None], /, *args: P.args, **kwargs: P.kwargs
) -> Followup:
    """Build a follow-up; the arguments are checked against run's keyword parameters."""
    if args:
        raise TypeError("follow-up arguments are passed by keyword")
    return Followup(run, dict(kwargs))


@dataclass(frozen=True)
class Outcome:
    """What an accepted command answers at once (ephemeral) and what it leaves for later."""

    reply: str | None = None
    followup: Followup | None = None
    blocks: list[dict[str, Any]] | None = None
    public: bool = False


Accept = Callable[[CommandInput, "Deps"], Outcome]


@dataclass
class Subcommand:
    """A registered subcommand with its help line."""

    name: str
    accept: Accept
    usage: str
    summary: str
    aliases: tuple[str, ...] = ()
    # Running the same request twice does no harm: it only reads, or it deduplicates by
    # itself (declare's request key). Others are claimed by trigger id before they run.
    repeatable: bool = False


class CommandRouter:
    """Maps subcommand names to their accept functions."""

    def __init__(self) -> None:
        self.subcommands: dict[str, Subcommand] = {}
        self._order: list[str] = []

    def subcommand(
        self,
        name: str,
        *,
        usage: str,
        summary: str,
        aliases: tuple[str, ...] = (),
        repeatable: bool = False,
    ) -> Callable[[Accept], Accept]:
        """Register a subcommand (decorator)."""

        def decorator(accept: Accept) -> Accept:
            entry = Subcommand(name, accept, usage, summary, aliases, repeatable)
            for key in (name, *aliases):
                self.subcommands[key] = entry
            self._order.append(name)
            return accept

        return decorator

    def help_text(self) -> str:
        """Return the help listing, in registration order."""
        lines = [_("*`/incident` commands*")]
        for name in self._order:
            entry = self.subcommands[name]
            lines.append(f"• `{entry.usage}` — {_(entry.summary)}")
        return "\n".join(lines)
