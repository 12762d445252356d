"""Doctor as a feature: it contributes the `sevbot doctor` command and nothing at run time."""

from __future__ import annotations

from bot.deps import Deps
from bot.doctor.cli import doctor

commands = [doctor]


def install(deps: Deps) -> None:
    """Add nothing to a running bot: the doctor only runs from the command line."""
