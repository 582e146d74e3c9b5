"""The wheel ships every subpackage and the skill guides (pyproject lists packages explicitly)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from cargo_shell.agent.skills import SKILL_NAMES, load_skills

ROOT = Path(__file__).resolve().parents[2]


def test_pyproject_lists_every_subpackage() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    on_disk = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "cargo_shell").rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert on_disk - listed == set(), "add these packages to [tool.setuptools] packages in pyproject.toml"
    assert config["tool"]["setuptools"]["package-dir"]["cargo_shell.skills"] == "skills"
    assert "cargo_shell.skills" in listed


def test_skills_load_through_the_package() -> None:
    skills = load_skills()
    assert tuple(skills) == SKILL_NAMES
    for name, skill in skills.items():
        assert skill.name == name
        assert 20 < len(skill.description) <= 300
        assert skill.body.lstrip().startswith("#")
