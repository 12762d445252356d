"""The `sevbot demo` command."""

from __future__ import annotations

import time
from pathlib import Path

import click

DEFAULT_OUTPUT = "sevbot-demo-postmortem.md"


@click.command("demo")
@click.option(
    "--language", type=click.Choice(["en", "ko"]), default="en", show_default=True,
    help="Language of the bot's messages.",
)  # fmt: skip
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=DEFAULT_OUTPUT,
    show_default=True, help="Where to write the postmortem (markdown, as it reads in Notion).",
)  # fmt: skip
@click.option("--play", is_flag=True, help="Keep everything running and type as a Slack user.")
def demo(language: str, output: Path, play: bool) -> None:
    """Run one incident end to end against local fakes of Slack, PagerDuty and Notion."""
    from rich.console import Console

    from bot.demo.actors import DemoError
    from bot.demo.story import Story
    from bot.demo.transcript import Transcript
    from bot.demo.world import start_world
    from bot.i18n import _, set_default_language
    from bot.logs import configure_logging

    if not output.parent.resolve().is_dir():
        raise click.ClickException(
            f"cannot write the postmortem to {output}: {output.parent} is not a directory"
        )
    configure_logging("ERROR", "console")
    set_default_language(language)
    console = Console(highlight=False)
    started = time.monotonic()
    console.print(
        "[bold]sevbot demo[/bold]: " + _("starting the Slack, PagerDuty and Notion fakes …")
    )
    try:
        world = start_world(language=language)
    except (OSError, RuntimeError) as exc:  # no openssl for the fake's CA, no free port, …
        raise click.ClickException(f"could not start the demo's fakes: {exc}") from exc
    try:
        transcript = Transcript(world.slack, console)
        if play:
            from bot.demo.play import play_loop

            play_loop(world, transcript, console)
            return
        try:
            outcome = Story(world, transcript).run(output)
        except DemoError as exc:
            raise click.ClickException(f"the demo stopped: {exc}") from exc
    finally:
        world.close()
    console.print()
    written = outcome.postmortem_path.resolve()
    console.print(_("Postmortem written to {path}", path=written), markup=False)
    console.print(_("Done in {seconds} s.", seconds=f"{time.monotonic() - started:.1f}"))
