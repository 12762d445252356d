"""Our own exceptions for vendor failures: adapters raise these, never the vendor SDK's."""

from __future__ import annotations


class IntegrationError(Exception):
    """A vendor call failed after retries; the message is safe to show to users."""


class NotConfigured(IntegrationError):
    """The integration has no credentials configured."""


class AuthError(IntegrationError):
    """The vendor refused our credentials (401/403)."""


class NotFound(IntegrationError):
    """The vendor has no such object."""


class Trashed(IntegrationError):
    """The object was moved to the vendor's trash (Notion: in_trash); it can be replaced."""


class Unavailable(IntegrationError):
    """The vendor is down, timing out or rate limiting us beyond our retries."""


class ChatError(IntegrationError):
    """Slack answered ok:false; `code` is Slack's error string."""

    def __init__(self, code: str, message: str | None = None) -> None:
        super().__init__(message or code)
        self.code = code
