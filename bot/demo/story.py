"""The demo's story: one incident from PagerDuty trigger to alert review, in seven steps."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.demo.actors import DemoError, PagerDutyActor, SlackActor, wait_for
from bot.demo.notion_page import NotionReader
from bot.demo.transcript import Button, Transcript, buttons_of
from bot.demo.world import World
from bot.i18n import N_, _
from bot.nudges.rules import nudge_kind
from bot.slack.ids import IncidentAction, IncidentBlock, NudgeAction, PagerDutyAction

STEPS = [
    N_("1. PagerDuty triggers an incident and its webhook arrives"),
    N_("2. Declare incident is clicked: SEV channel, kickoff and announcement"),
    N_("3. Roles, an update, silence, and the silence nudge"),
    N_("4. Severity change, PagerDuty alerts pulled in, resolved with a summary"),
    N_("5. The Notion postmortem is filed"),
    N_("6. Scheduling nudge, meeting with its .ics, postmortem marked complete"),
    N_("7. The alert review is posted"),
]


@dataclass
class Outcome:
    """What the story produced."""

    incident_channel: str
    postmortem_path: Path
    page_url: str


class Story:
    """Play the seven steps against a started world, showing the Slack conversation."""

    def __init__(self, world: World, transcript: Transcript, steps: list[str] | None = None):
        self.world = world
        self.t = transcript
        self.slack = SlackActor(world, transcript)
        self.pd = PagerDutyActor(world, transcript)
        self.steps = steps or [_(step) for step in STEPS]
        self.channel = ""

    # ---- helpers ------------------------------------------------------------
    def _wait(self, predicate: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
        return wait_for(predicate, self.t, timeout=timeout, what=what)

    def _button(self, channel: str, action_id: str, *, after: int = 0) -> Button | None:
        messages = self.world.slack.messages(channel)[after:]
        for message in reversed(messages):
            for button in buttons_of(message, channel):
                if button.action_id == action_id:
                    return button
        return None

    def _count(self, channel: str) -> int:
        return len(self.world.slack.messages(channel))

    def _new_messages(self, channel: str, before: int, what: str, *, count: int = 1) -> None:
        self._wait(lambda: self._count(channel) >= before + count, what)

    def _nudges(self) -> int:
        return sum(
            1
            for m in self.world.slack.messages(self.channel)
            if nudge_kind(str(((m.get("metadata") or {}).get("event_payload") or {}).get("key")))
        )

    # ---- the story ------------------------------------------------------------
    def run(self, output: Path) -> Outcome:
        """Play every step; write the postmortem markdown to output."""
        people, w = self.world.people, self.world
        alice, bob, carol = people.alice, people.bob, people.carol

        self.t.heading(self.steps[0])
        incident = self.pd.trigger(_("Payments API 5xx above 5%"), alerts=3)
        offer = self._wait(
            lambda: self._button(w.incidents_channel, PagerDutyAction.DECLARE), "the Declare offer"
        )

        self.t.heading(self.steps[1])
        view = self.slack.click(alice, offer)
        if view is None:
            raise DemoError("the Declare incident button opened no modal")
        self.slack.submit(alice, view, {IncidentBlock.COMMANDER: alice})
        channel = self._wait(self._incident_channel, "the SEV channel")
        self.channel = channel
        self._wait(lambda: self._button(channel, IncidentAction.POST_UPDATE), "the kickoff message")
        self._wait(lambda: self._count(w.incidents_channel) >= 2, "the announcement")

        self.t.heading(self.steps[2])
        before = self._count(channel)
        self.slack.command(alice, channel, f"role comms <@{bob}>")
        self.slack.command(alice, channel, f"role scribe <@{carol}>")
        self._new_messages(channel, before, "the role changes", count=2)
        self.slack.say(bob, channel, _("Payment gateway returns 502s since the 14:05 deploy."))
        update = self._button(channel, IncidentAction.POST_UPDATE)
        assert update is not None
        modal = self.slack.click(bob, update)
        if modal is None:
            raise DemoError("the Post update button opened no modal")
        before = self._count(channel)
        self.slack.submit(
            bob,
            modal,
            {IncidentBlock.TEXT: _("Rolling back the 14:05 payments deploy; ETA 10 minutes.")},
        )
        self._new_messages(channel, before, "the update")
        self.t.note(_("… the channel goes quiet (an hour in production, 4 seconds here) …"))
        self._wait(lambda: self._nudges() >= 1, "the silence nudge", timeout=30)
        self.slack.say(alice, channel, _("Rollback is done; error rate is dropping."))

        self.t.heading(self.steps[3])
        before = self._count(channel)
        self.slack.command(alice, channel, "sev 1")
        self._new_messages(channel, before, "the severity change")
        before = self._count(channel)
        self.slack.command(alice, channel, "alerts")
        self._new_messages(channel, before, "the PagerDuty alerts")
        before = self._count(channel)
        summary = _("Rolled back the 14:05 deploy; gateway timeouts fixed.")
        self.slack.command(alice, channel, f"resolve {summary}")
        self._new_messages(channel, before, "the resolve summary")

        self.t.heading(self.steps[4])
        page_id = self._wait(self._postmortem_page, "the Notion postmortem", timeout=30)
        self._wait(lambda: "notion.so" in str(w.slack.messages(channel)), "the Notion link")

        self.t.heading(self.steps[5])
        self.t.note(_("… a day passes without a meeting (3 seconds here) …"))
        schedule = self._wait(
            lambda: self._button(channel, NudgeAction.SCHEDULE_MEETING),
            "the scheduling nudge",
            timeout=30,
        )
        modal = self.slack.click(alice, schedule)
        if modal is None:
            raise DemoError("the Schedule meeting button opened no modal")
        self.slack.submit(alice, modal)
        self._wait(self._ics_posted, "the .ics invitation")
        self.slack.command(alice, channel, "postmortem done")
        self._wait(lambda: self._page_status(page_id) == "Complete", "the postmortem completion")

        self.t.heading(self.steps[6])
        self.t.note(_("… the alert review's schedule comes round (every other Monday) …"))
        w.scheduler.modify_job("alert_review", next_run_time=datetime.now(UTC))
        self._wait(lambda: w.slack.messages(w.review_channel), "the alert review", timeout=30)
        self.t.flush()
        del incident
        reader = NotionReader(w.notion.token, w.notion.base_url)
        output.write_text(reader.markdown(page_id), encoding="utf-8")
        url = str(reader.client.pages.retrieve(page_id=page_id)["url"])  # type: ignore[index]
        return Outcome(channel, output, url)

    # ---- predicates -------------------------------------------------------------
    def _incident_channel(self) -> str | None:
        for channel in self.world.slack.channels():
            if str(channel.get("name", "")).startswith("inc-"):
                return str(channel["id"])
        return None

    def _postmortem_page(self) -> str | None:
        pages = [p for p in self.world.notion.pages.values() if p.get("source")]
        return str(pages[0]["id"]) if pages else None

    def _page_status(self, page_id: str) -> str | None:
        from bot.fakes.notion_store import key_of

        with self.world.notion._state:  # noqa: SLF001
            page = self.world.notion.pages[key_of(page_id)]
            status = page["properties"].get("Status")
        return str(status.get("name")) if isinstance(status, dict) else None

    def _ics_posted(self) -> bool:
        return any(
            str(f.get("name", "")).endswith(".ics")
            for m in self.world.slack.messages(self.channel)
            for f in m.get("files") or []
        )
