"""create_app(): build the Bolt App from Settings and Deps. Nothing happens at import time."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.authorization import AuthorizeResult

from bot.deps import Deps
from bot.observability.slack_requests import observe_slack_request
from bot.settings import Settings
from bot.slack import listeners
from bot.slack.envelope import refuse_malformed
from bot.slack.languages import ReaderLanguages, reader_middleware
from bot.slack.listeners.commands import register_subcommands
from bot.slack.listeners.errors import answer_listener_error


class ObservedApp(App):
    """A Bolt App whose every request is traced, timed to its ack and bound to the logs."""

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        """Dispatch a request inside its span (lazy listeners link to it)."""
        return observe_slack_request(req, super().dispatch)


def register_features(deps: Deps) -> None:
    """Register every /incident subcommand and follow-up on the router."""
    register_subcommands(deps.router)


def _authorize(deps: Deps) -> Callable[..., AuthorizeResult]:
    """Authorize from the bot's cached auth.test, so no request waits on Slack to be acked.

    (Bolt's default single-team authorization calls auth.test on the first request.)
    """
    token = deps.web_client.token or ""

    def authorize(**_: Any) -> AuthorizeResult:
        me = deps.chat.identity()
        return AuthorizeResult(
            enterprise_id=me["enterprise_id"] or None,
            team_id=me["team_id"] or None,
            bot_user_id=me["user_id"],
            bot_id=me["bot_id"],
            bot_token=token,
        )

    return authorize


def create_app(settings: Settings, deps: Deps, executor: Executor | None = None) -> App:
    """Return a Bolt App wired to the listeners; request signing stays on in HTTP mode."""
    if not settings.socket_mode and settings.slack_signing_secret is None:
        raise ValueError("SLACK_SIGNING_SECRET is required in HTTP mode (or set SLACK_APP_TOKEN)")
    secret = (
        settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    )
    app = ObservedApp(
        client=deps.web_client,
        authorize=_authorize(deps),
        signing_secret=secret or None,
        process_before_response=True,
        token_verification_enabled=False,
        request_verification_enabled=not settings.socket_mode,
        logger=logging.getLogger("slack_bolt"),
        listener_executor=executor,
    )
    languages = ReaderLanguages(deps.chat.user_locale, executor or ThreadPoolExecutor(1))
    deps.reader_languages = languages
    app.use(refuse_malformed)  # what a front door did not check already (threaded Socket Mode)
    app.use(reader_middleware(languages))
    if not deps.router.subcommands:
        register_features(deps)
    listeners.register(app, deps)
    app.error(answer_listener_error)
    return app
