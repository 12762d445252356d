"""Slack identifiers of the follow-ups feature."""

from __future__ import annotations

from enum import StrEnum


class FollowUpAction(StrEnum):
    """Buttons on listed follow-ups."""

    DONE = "followups_done"
    WONT_DO = "followups_wont_do"


BLOCK_PREFIX = "followups_item_"
