"""Domain events of a postmortem (its meeting and its completion)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PostmortemMeetingChanged:
    """Emitted after the postmortem meeting is scheduled, moved or cancelled from Slack."""

    incident_id: int


@dataclass(frozen=True)
class PostmortemCompleted:
    """Emitted after the postmortem is marked complete from Slack."""

    incident_id: int
