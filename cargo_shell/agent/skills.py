"""Load the seven skill guides (``skills/<name>/SKILL.md``) at run time.

The folder ships in the wheel as the package ``cargo_shell.skills``; in a source checkout that is
not installed the loader falls back to the ``skills/`` folder next to the package. Descriptions
go into the tool schemas; bodies are handed to the model only on demand (``help``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from cargo_shell.registry import SKILLS

SKILL_NAMES: tuple[str, ...] = SKILLS


@dataclass(frozen=True)
class Skill:
    name: str
    description: str
    body: str


def parse_skill(text: str, *, folder: str) -> Skill:
    """Split the flat ``key: value`` frontmatter from the markdown body."""
    lines = text.splitlines()
    meta: dict[str, str] = {}
    body_start = 0
    if lines and lines[0].strip() == "---":
        for i, line in enumerate(lines[1:], start=1):
            if line.strip() == "---":
                body_start = i + 1
                break
            key, sep, value = line.partition(":")
            if sep:
                meta[key.strip()] = value.strip()
        else:
            raise ValueError(f"skills/{folder}/SKILL.md: frontmatter is not closed by ---")
    name = meta.get("name", folder)
    if name != folder:
        raise ValueError(f"skills/{folder}/SKILL.md: name {name!r} does not match its folder")
    description = meta.get("description", "")
    if not description:
        raise ValueError(f"skills/{folder}/SKILL.md: missing description")
    return Skill(name, description, "\n".join(lines[body_start:]).strip() + "\n")


def skills_root() -> Traversable:
    try:
        return resources.files("cargo_shell.skills")
    except ModuleNotFoundError:
        return Path(__file__).resolve().parents[2] / "skills"


@cache
def load_skills() -> dict[str, Skill]:
    """All seven skills, in the canonical order; a missing guide is an installation error."""
    root = skills_root()
    out: dict[str, Skill] = {}
    for name in SKILL_NAMES:
        entry = root / name / "SKILL.md"
        if not entry.is_file():
            raise FileNotFoundError(f"skill guide {name}/SKILL.md is missing from the installation")
        out[name] = parse_skill(entry.read_text(encoding="utf-8"), folder=name)
    return out
