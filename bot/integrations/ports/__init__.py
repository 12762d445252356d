"""Ports: what the domain asks of the outside world, one module per vendor.

Adapters in bot.integrations implement them: slack.py (chat), pagerduty.py, notion.py. Every
adapter turns vendor failures into the exceptions of errors.py.
"""

from __future__ import annotations

from bot.integrations.ports.chat import (
    ChannelInfo,
    ChatMessage,
    ChatPort,
    ChatUser,
    FileShare,
    IncidentPresenter,
    Message,
    Posted,
)
from bot.integrations.ports.errors import (
    AuthError,
    ChatError,
    IntegrationError,
    NotConfigured,
    NotFound,
    Trashed,
    Unavailable,
)
from bot.integrations.ports.notion import ChildBlock, NotionPage, NotionPort
from bot.integrations.ports.pagerduty import PageHook, PagerDutyPort

__all__ = [
    "AuthError",
    "ChannelInfo",
    "ChatError",
    "ChatMessage",
    "ChatPort",
    "ChatUser",
    "ChildBlock",
    "FileShare",
    "IncidentPresenter",
    "IntegrationError",
    "Message",
    "NotConfigured",
    "NotFound",
    "NotionPage",
    "NotionPort",
    "PageHook",
    "PagerDutyPort",
    "Posted",
    "Trashed",
    "Unavailable",
]
