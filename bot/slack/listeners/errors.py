"""What Slack hears when a listener fails before its ack.

Most failures stay a 500: Slack retries an event, and marks a click or a command as failed. A
database that cannot be reached is different: the person who typed a command or submitted a
form is told so in words, and nothing was recorded, so sending it again later is safe.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import BoltResponse
from sqlalchemy import exc as sa_exc

from bot.i18n import _, for_reader

log = logging.getLogger("slack_bolt")


def database_unavailable(error: BaseException) -> bool:
    """Say whether an error means the database could not be reached (not a bug in a query)."""
    return isinstance(error, sa_exc.OperationalError | sa_exc.InterfaceError) or (
        isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated
    )


def answer_listener_error(
    error: Exception, body: dict[str, Any], response: BoltResponse | None
) -> None:
    """Log a failed listener; tell a command's or a form's author when the database is down."""
    log.error("listener failed before its ack: %s", type(error).__name__, exc_info=error)
    if response is None or not database_unavailable(error):
        return
    with for_reader():
        text = _(
            "I can't reach my database right now, so nothing was recorded. "
            "Please try again in a minute."
        )
    if body.get("command"):
        answer: dict[str, Any] = {"response_type": "ephemeral", "text": text}
    elif body.get("type") == "view_submission":
        blocks = [b for b in (body.get("view") or {}).get("blocks") or [] if isinstance(b, dict)]
        block_id = next((b["block_id"] for b in blocks if b.get("type") == "input"), None)
        if block_id is None:
            return
        answer = {"response_action": "errors", "errors": {block_id: text}}
    else:
        return
    response.status = 200
    response.body = json.dumps(answer)
    response.headers["content-type"] = ["application/json;charset=utf-8"]
