"""Why a start failed, in one line that names the cause and the fix (no traceback)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import exc as sa_exc
from sqlalchemy import make_url

from bot.integrations.ports import AuthError, IntegrationError
from bot.settings import Settings

_REVOKED = ("token_revoked", "account_inactive", "app_uninstalled")


def explain(error: BaseException, settings: Settings) -> str:
    """Return one line saying what stopped the start and what to do about it."""
    text = first_line(error)
    if isinstance(error, AuthError):
        text = slack_error_code(error) or text
        if text in _REVOKED:
            return (
                f"Slack says SLACK_BOT_TOKEN is no longer valid ({text}): reinstall the app "
                "to the workspace and set SLACK_BOT_TOKEN to the new Bot User OAuth Token."
            )
        return (
            f"Slack refused SLACK_BOT_TOKEN ({text}): copy the Bot User OAuth Token (xoxb-…) "
            "from your app's OAuth & Permissions page into SLACK_BOT_TOKEN."
        )
    if isinstance(error, IntegrationError):
        return (
            f"Slack is unreachable at {settings.slack_api_url} ({text}): check the network "
            "or proxy (HTTPS_PROXY), or SLACK_API_URL if you set it."
        )
    if isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError):
        return (
            f"the database at {safe_url(settings.database_url)} is unreachable "
            f"({first_line(error.orig) if error.orig else text}): check DATABASE_URL and "
            "that the database server is running and accepts connections."
        )
    if isinstance(error, sa_exc.ArgumentError | sa_exc.NoSuchModuleError):
        return f"DATABASE_URL is not a database URL ({text}): use e.g. postgresql://user@host/db."
    return f"could not start: {text}"


def slack_error_code(error: BaseException) -> str | None:
    """Return Slack's error code (invalid_auth, token_revoked…) behind an adapter error."""
    response = getattr(error.__cause__, "response", None)
    code = response.get("error") if response is not None else None
    return str(code) if code else None


def first_line(error: BaseException | None) -> str:
    """Return an error's message, on one line, without SQLAlchemy's background link."""
    text = str(error or "").split("(Background on this error")[0]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def safe_url(url: str) -> str:
    """Render a database URL with its password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except sa_exc.ArgumentError:
        return "(unparseable URL)"


@contextmanager
def quiet_slack_retries() -> Iterator[None]:
    """Keep slack_sdk's per-retry error lines out of the start-up output."""
    logger = logging.getLogger("slack_sdk")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)
