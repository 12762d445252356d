"""The IncidentPresenter for Slack: wraps the pure Block Kit builders."""

from __future__ import annotations

from bot.i18n import _
from bot.incidents.domain import IncidentSnapshot
from bot.integrations.ports import Message
from bot.slack.blocks import incident as b
from bot.text import neutralise


class SlackPresenter:
    """Render incident messages as Slack text and blocks."""

    def kickoff(self, incident: IncidentSnapshot) -> Message:
        """Render the pinned kickoff message."""
        return Message(b.kickoff_text(incident), b.kickoff_blocks(incident))

    def announcement(self, incident: IncidentSnapshot) -> Message:
        """Render the announcement."""
        return Message(b.announcement_text(incident), b.announcement_blocks(incident))

    def topic(self, incident: IncidentSnapshot) -> str:
        """Render the channel topic."""
        return b.topic_text(incident)

    def status_update(self, incident: IncidentSnapshot, text: str, author_id: str) -> Message:
        """Render a status update."""
        fallback = _("Update on {label}: {text}", label=incident.label, text=neutralise(text))
        return Message(fallback[:3000], b.update_blocks(incident, text, author_id))

    def change_notice(self, incident: IncidentSnapshot, change: str, actor_id: str) -> Message:
        """Render a change notice."""
        return Message(
            f"{incident.label}: {neutralise(change)}", b.notice_blocks(incident, change, actor_id)
        )

    def resolved_summary(
        self, incident: IncidentSnapshot, highest_severity: str, duration_seconds: float
    ) -> Message:
        """Render the resolve summary."""
        return Message(
            _("{label} resolved", label=incident.label),
            b.resolved_blocks(incident, highest_severity, duration_seconds),
        )

    def setup_problem(self, incident: IncidentSnapshot, problem: str, final: bool) -> Message:
        """Render a setup problem for the reporter."""
        return Message(b.setup_problem_text(incident, problem, final))
