"""docs/configuration.md is generated from the settings model and must be current."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import Settings, load_settings
from bot.settings_reference import MEANINGS, missing_meanings, render

ROOT = Path(__file__).resolve().parent.parent


def test_the_committed_reference_is_current() -> None:
    committed = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert committed == render(), "run: python -m bot.settings_reference"


def test_every_setting_is_explained_and_no_explanation_is_stale() -> None:
    assert missing_meanings() == []
    assert set(MEANINGS) <= set(Settings.model_fields)
    page = render()
    for name in Settings.model_fields:
        assert f"`{name}`" in page


def test_check_mode_fails_on_a_stale_page(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "configuration.md").write_text("old\n", encoding="utf-8")
    check = [sys.executable, "-m", "bot.settings_reference", "--check"]
    stale = subprocess.run(check, cwd=tmp_path, capture_output=True, text=True)
    assert stale.returncode == 1 and "stale" in stale.stderr
    subprocess.run([sys.executable, "-m", "bot.settings_reference"], cwd=tmp_path, check=True)
    assert subprocess.run(check, cwd=tmp_path).returncode == 0


def test_language_comes_from_sevbot_language_never_gettexts_language(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LANGUAGE", "ko")
    monkeypatch.delenv("SEVBOT_LANGUAGE", raising=False)
    assert load_settings().language == "en"
    policy = tmp_path / "policy.yaml"
    policy.write_text("language: ko\n", encoding="utf-8")
    monkeypatch.setenv("SEVBOT_CONFIG", str(policy))
    assert load_settings().language == "ko"
    monkeypatch.setenv("SEVBOT_LANGUAGE", "en")
    assert load_settings().language == "en"  # the environment wins over the file
    monkeypatch.setenv("SEVBOT_LANGUAGE", "fr")
    with pytest.raises(Exception, match="language"):
        load_settings()
