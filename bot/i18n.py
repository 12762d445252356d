"""Message catalogs: English and Korean, from gettext .po files compiled when first needed.

The workspace language (`language` in settings, `SEVBOT_LANGUAGE`) is the default. While
the bot answers one person privately (an ephemeral reply, a modal), the text follows that
person's Slack locale: a Bolt middleware records who is being answered, and `for_reader()`
switches to their language for the text built inside it.

Catalogs live in bot/locale/<lang>/LC_MESSAGES/sevbot.po. The .mo files are never committed:
each .po is compiled in memory (Babel) the first time its language is used, so a stale binary
catalog cannot exist.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextvars import ContextVar, copy_context
from datetime import datetime, tzinfo
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

DOMAIN = "sevbot"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES = ("en", "ko")
DEFAULT_LANGUAGE = "en"

_default = DEFAULT_LANGUAGE
_override: ContextVar[str | None] = ContextVar("sevbot_language", default=None)
_reader: ContextVar[str | None] = ContextVar("sevbot_reader_language", default=None)
_lock = threading.Lock()


def catalog_path(language: str) -> Path:
    """Return the .po file of a language."""
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def translations(language: str) -> Translations:
    """Return the compiled catalog of a language (compiled from its .po on first use)."""
    with catalog_path(language).open("rb") as source:
        catalog = read_po(source, locale=language, domain=DOMAIN)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


def set_default_language(language: str) -> None:
    """Set the workspace language (from settings, when a bot is assembled)."""
    global _default
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, not {language!r}")
    with _lock:
        _default = language


def default_language() -> str:
    """Return the workspace language."""
    return _default


def current_language() -> str:
    """Return the language text is being written in right now."""
    return _override.get() or _default


@contextlib.contextmanager
def language(value: str | None) -> Iterator[None]:
    """Write the text built inside the block in a language (None keeps the current one)."""
    token = _override.set(value if value in LANGUAGES else _override.get())
    try:
        yield
    finally:
        _override.reset(token)


def set_reader(value: str | None) -> None:
    """Record the language of the person the current request answers (None: unknown)."""
    _reader.set(value if value in LANGUAGES else None)


def reader_language() -> str | None:
    """Return the language of the person being answered, if known."""
    return _reader.get()


def for_reader() -> contextlib.AbstractContextManager[None]:
    """Write the text built inside the block for the person being answered."""
    return language(_reader.get())


def language_of_locale(locale: str | None) -> str | None:
    """Map a Slack locale ('ko-KR', 'en-US') to one of our languages, or None."""
    if not locale:
        return None
    prefix = locale.replace("_", "-").split("-")[0].lower()
    return prefix if prefix in LANGUAGES else None


def _(message: str, **values: Any) -> str:
    """Translate a message into the current language and fill its {placeholders}."""
    text = translations(current_language()).gettext(message)
    return text.format(**values) if values else text


def public_(message: str, **values: Any) -> str:
    """Translate a message everyone reads (a channel post, the timeline): workspace language.

    Use it for public text built while answering one person, whose own language may differ.
    """
    text = translations(_default).gettext(message)
    return text.format(**values) if values else text


def ngettext(singular: str, plural: str, n: int, **values: Any) -> str:
    """Translate a message with a count; {n} is available as a placeholder."""
    text = translations(current_language()).ngettext(singular, plural, n)
    return text.format(n=n, **values)


def format_when(at: datetime, tz: tzinfo | str | None = None) -> str:
    """Format a moment for people reading the current language, in a time zone."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    pattern = "yyyy-MM-dd HH:mm zzz" if current_language() == "en" else "yyyy년 M월 d일 a h:mm zzz"
    return format_datetime(at, pattern, tzinfo=zone, locale=current_language())


class ContextThreadPoolExecutor(ThreadPoolExecutor):
    """A thread pool whose tasks see who is being answered (not the text language override).

    Lazy listeners run here after the ack: they keep the reader's language for their private
    replies, while public posts are written in the workspace language.
    """

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Run fn in a copy of the caller's context, with the language override cleared."""
        context = copy_context()

        def run() -> Any:
            _override.set(None)
            return fn(*args, **kwargs)

        return super().submit(context.run, run)


def N_(message: str) -> str:  # noqa: N802  the conventional gettext marker
    """Mark a message for extraction without translating it now (translate with _ later)."""
    return message


def status_label(status: str, *, public: bool = False) -> str:
    """Return an incident status as people read it (in the workspace language when public)."""
    labels = {
        "investigating": N_("investigating"),
        "identified": N_("identified"),
        "monitoring": N_("monitoring"),
        "resolved": N_("resolved"),
    }
    if status not in labels:
        return status
    return public_(labels[status]) if public else _(labels[status])
