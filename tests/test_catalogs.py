"""The English and Korean catalogs: complete, consistent with the code, placeholders intact."""

from __future__ import annotations

import ast
import string
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from bot import i18n

BOT = Path(i18n.__file__).resolve().parent
MARKERS = {"_": 1, "N_": 1, "public_": 1, "ngettext": 2}


def messages_in_code(root: Path = BOT) -> set[str]:
    """Return every literal message passed to _(), N_() or ngettext() in the package."""
    found: set[str] = set()
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func  # _("…") or i18n._("…")
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            count = MARKERS.get(name or "")
            for arg in node.args[: count or 0]:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    found.add(arg.value)
    return found


def placeholders(text: str) -> set[str]:
    """Return the {names} a message fills in with str.format."""
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def catalog(language: str) -> Catalog:
    """Read a committed .po catalog."""
    with i18n.catalog_path(language).open("rb") as source:
        return read_po(source, locale=language)


def problems(code: set[str], catalogs: dict[str, Catalog]) -> list[str]:
    """Return what is wrong between the code's messages and the catalogs."""
    found: list[str] = []
    ids = {lang: {m.id for m in cat if m.id} for lang, cat in catalogs.items()}
    for lang, known in ids.items():
        found += [f"{lang}: missing {m!r}" for m in sorted(code - known)]
        found += [f"{lang}: not used in the code {m!r}" for m in sorted(known - code)]
    for lang, cat in catalogs.items():
        for message in cat:
            if not message.id or not isinstance(message.id, str):
                continue
            text = message.string
            if lang != "en" and not text:
                found.append(f"{lang}: untranslated {message.id!r}")
            elif text and placeholders(str(text)) != placeholders(message.id):
                found.append(f"{lang}: placeholders differ in {message.id!r}")
    return found


def test_both_catalogs_hold_exactly_the_code_messages_translated_with_same_placeholders() -> None:
    catalogs = {lang: catalog(lang) for lang in i18n.LANGUAGES}
    assert problems(messages_in_code(), catalogs) == []


def test_the_check_catches_a_missing_message_and_a_broken_placeholder() -> None:
    en, ko = Catalog(locale="en"), Catalog(locale="ko")
    en.add("Hello {name}", "")
    en.add("Only in English", "")
    ko.add("Hello {name}", "안녕하세요 {이름}")
    found = problems({"Hello {name}", "Only in English"}, {"en": en, "ko": ko})
    assert "ko: missing 'Only in English'" in found
    assert "ko: placeholders differ in 'Hello {name}'" in found


def test_catalogs_compile_from_po_and_no_binary_catalog_is_committed() -> None:
    assert list((BOT / "locale").rglob("*.mo")) == []
    for lang in i18n.LANGUAGES:
        checked = catalog(lang)
        assert [error for _, errors in checked.check() for error in errors] == []
    with i18n.language("ko"):
        assert i18n._("Post update") == "업데이트 올리기"
        assert i18n._("{label} resolved", label="INC-7") == "INC-7 해결"
    with i18n.language("en"):
        assert i18n._("{label} resolved", label="INC-7") == "INC-7 resolved"
