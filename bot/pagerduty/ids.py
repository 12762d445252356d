"""Slack action ids of the pagerduty feature (buttons on its messages)."""

from __future__ import annotations

from enum import StrEnum


class PdAction(StrEnum):
    """Button action ids."""

    DECLARE = "pagerduty_declare_incident"
    INVITE_ONCALL = "pagerduty_invite_oncall_users"
