"""Slack identifiers of the follow-ups feature."""

from __future__ import annotations

from enum import StrEnum


class FollowUpAction(StrEnum):
    """Buttons on follow-ups, the [Add follow-up] button and the modal's inputs."""

    DONE = "followups_done"
    WONT_DO = "followups_wont_do"
    SNOOZE = "followups_snooze_week"
    ADD = "followups_add"
    TEXT = "followups_text"
    OWNER = "followups_owner"
    DUE = "followups_due"


class FollowUpBlock(StrEnum):
    """Block ids of the Add follow-up modal."""

    TEXT = "followups_text_block"
    OWNER = "followups_owner_block"
    DUE = "followups_due_block"


class FollowUpCallback(StrEnum):
    """Modal callback ids."""

    ADD = "followups_add_modal"


BLOCK_PREFIX = "followups_item_"
SNOOZE_FOR_DAYS = 7
