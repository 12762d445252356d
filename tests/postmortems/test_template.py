"""The postmortem template: one packaged file, a config copy kept identical, a team override."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

import pytest

from bot.postmortems.render import BUILTIN_TEMPLATE, BUILTIN_TEMPLATES, load_template, template_path
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
PACKAGED = [BUILTIN_TEMPLATE, *BUILTIN_TEMPLATES.values()]


@pytest.mark.parametrize(
    ("config_copy", "packaged"),
    [
        ("postmortem_template.md", BUILTIN_TEMPLATE),
        ("postmortem_template.ko.md", BUILTIN_TEMPLATES["ko"]),
    ],
)
def test_the_config_copy_is_the_packaged_template(config_copy: str, packaged: Path) -> None:
    """config/ holds the example a team edits; as shipped, it is the packaged file byte for byte."""
    assert (ROOT / "config" / config_copy).read_bytes() == packaged.read_bytes()


@pytest.mark.parametrize("template", PACKAGED, ids=lambda path: path.name)
def test_the_templates_are_package_data(template: Path) -> None:
    """A wheel or sdist install carries the templates (no config/ directory is needed)."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = pyproject["tool"]["setuptools"]["package-data"]["bot"]
    inside = template.relative_to(ROOT / "bot").as_posix()
    assert template.is_file()
    assert any(fnmatch.fnmatch(inside, pattern) for pattern in patterns), (inside, patterns)


def test_a_team_template_overrides_the_packaged_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """POSTMORTEM_TEMPLATE names the team's file; without one the packaged template is used."""
    team = tmp_path / "team.md"
    team.write_text("# {{ pm.title }}\n", encoding="utf-8")
    monkeypatch.setenv("POSTMORTEM_TEMPLATE", str(team))
    settings = Settings()
    assert template_path(settings) == str(team)
    assert load_template(template_path(settings)) == "# {{ pm.title }}\n"
    monkeypatch.chdir(tmp_path)  # no config/ here, as after `pip install sevbot`
    assert load_template(template_path(Settings(postmortem_template="config/x.md"))) == (
        BUILTIN_TEMPLATE.read_text(encoding="utf-8")
    )
