"""Checks the skill guides in skills/ against the command catalogue and the registry.

Every `cargo-shell ...` command written in a guide must be a real catalogue command (or, beyond the
documented CLI, a registry command: the official client's other operations), every flag written with
it must belong to that command, and every command must be taught by the skill it belongs to.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from cargo_shell.registry import get_registry

REPO_ROOT = Path(__file__).resolve().parents[1]
SKILLS_DIR = REPO_ROOT / "skills"
CATALOGUE = REPO_ROOT.parent / "shared" / "reference" / "cargo-commands.yaml"
SKILL_NAMES = ("orchestration", "storage", "connection", "ai", "analytics", "billing", "workspace")
MAX_DESCRIPTION = 300

FENCE = re.compile(r"^```.*?$(.*?)^```\s*$", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`([^`\n]+)`")
MENTION = re.compile(r"cargo-shell((?:\s+[a-z][a-z0-9-]*)*)")
FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")


@dataclass(frozen=True)
class Mention:
    skill: str
    text: str
    words: tuple[str, ...]
    flags: tuple[str, ...]


def _kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


@pytest.fixture(scope="module")
def catalogue() -> dict[str, set[str]]:
    """Command words -> allowed flags (documented flags plus flags named after API fields), for the
    documented CLI and for the registry's commands beyond it (the rest of the platform)."""
    if not CATALOGUE.is_file():
        pytest.skip("command catalogue not found at ../shared/reference/ next to the repository root")
    data: dict[str, Any] = yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))
    commands: dict[str, set[str]] = {}
    for entry in data["commands"]:
        flags = {arg["name"] for arg in entry.get("args") or [] if arg["name"].startswith("--")}
        http = entry.get("http")
        if isinstance(http, dict):
            for field in http.get("fields") or []:
                if re.fullmatch(r"[A-Za-z0-9]+", field["name"]):
                    flags.add("--" + _kebab(field["name"]))
        commands[entry["command"]] = flags
    for spec in get_registry():  # the client's other operations (issue 12) are taught the same way
        if spec.http is None:  # cargo-shell's own commands are the README's, not a skill's
            continue
        commands.setdefault(spec.name, set()).update(a.flag for a in spec.args if not a.positional)
        if spec.download:
            commands[spec.name].add("--output-file")
    return commands


def _split(skill: str) -> tuple[dict[str, Any], str]:
    text = (SKILLS_DIR / skill / "SKILL.md").read_text(encoding="utf-8")
    match = re.match(r"---\n(.*?)\n---\n(.*)", text, re.DOTALL)
    assert match, f"{skill}/SKILL.md does not start with a --- frontmatter block"
    front = yaml.safe_load(match.group(1))
    assert isinstance(front, dict), f"{skill}: frontmatter is not a mapping"
    return front, match.group(2)


def _command_lines(body: str) -> list[str]:
    """Text pieces that may hold a command: logical code-block lines, inline code, and prose."""
    pieces: list[str] = []
    prose = body
    for block in FENCE.finditer(body):
        prose = prose.replace(block.group(0), "\n")
        logical = block.group(1).replace("\\\n", " ")
        for line in logical.splitlines():
            pieces.append(re.split(r"\s#\s", line, maxsplit=1)[0])
    for code in INLINE_CODE.finditer(prose):
        pieces.append(code.group(1))
    pieces.append(INLINE_CODE.sub(" ", prose))
    return pieces


def _mentions(skill: str, known: set[str]) -> list[Mention]:
    _, body = _split(skill)
    found: list[Mention] = []
    for piece in _command_lines(body):
        starts = [m.start() for m in re.finditer(r"cargo-shell", piece)] + [len(piece)]
        for start, end in itertools.pairwise(starts):
            segment = piece[start:end]
            match = MENTION.match(segment)
            assert match
            words = tuple(match.group(1).split())
            command = next((" ".join(words[:n]) for n in (3, 2, 1) if " ".join(words[:n]) in known), None)
            used = words if command is None else tuple(command.split())
            flags = tuple(FLAG.findall(segment))
            found.append(Mention(skill, segment.strip(), used, flags))
    return found


@pytest.mark.parametrize("skill", SKILL_NAMES)
def test_frontmatter_names_the_folder_and_has_a_short_description(skill: str) -> None:
    front, body = _split(skill)
    text = (SKILLS_DIR / skill / "SKILL.md").read_text(encoding="utf-8")
    lines = text.split("---\n", 2)[1].splitlines()
    flat = dict(line.split(": ", 1) for line in lines)
    assert flat == front, f"{skill}: frontmatter must be plain one-line 'key: value' pairs (no YAML needed)"
    assert front.get("name") == skill
    description = front.get("description")
    assert isinstance(description, str) and description.strip()
    assert len(description) <= MAX_DESCRIPTION, f"{skill}: description has {len(description)} characters"
    assert len(body.splitlines()) >= 60, f"{skill}: the guide body is too thin"


@pytest.mark.parametrize("skill", SKILL_NAMES)
def test_every_mentioned_command_and_flag_is_in_the_catalogue(skill: str, catalogue: dict[str, set[str]]) -> None:
    mentions = _mentions(skill, set(catalogue))
    assert mentions, f"{skill}: no cargo-shell commands found"
    problems: list[str] = []
    for mention in mentions:
        command = " ".join(mention.words)
        if command not in catalogue:
            problems.append(f"unknown command in: {mention.text}")
            continue
        unknown = sorted(set(mention.flags) - catalogue[command])
        if unknown:
            problems.append(f"{command}: flags {unknown} not in the catalogue ({mention.text})")
    assert not problems, "\n".join(problems)


def test_every_command_is_taught_by_its_own_skill(catalogue: dict[str, set[str]]) -> None:
    from cargo_shell.registry import get_registry

    data: dict[str, Any] = yaml.safe_load(CATALOGUE.read_text(encoding="utf-8"))
    documented = {entry["command"] for entry in data["commands"]}
    data["commands"] += [
        {"command": s.name, "skill": s.skill} for s in get_registry() if s.http is not None and s.name not in documented
    ]
    taught: dict[str, set[str]] = {skill: set() for skill in SKILL_NAMES}
    for skill in SKILL_NAMES:
        for mention in _mentions(skill, set(catalogue)):
            taught[skill].add(" ".join(mention.words))
    everywhere = set().union(*taught.values())
    missing = sorted(set(catalogue) - everywhere)
    assert not missing, f"catalogue commands no guide mentions: {missing}"
    misplaced = sorted(
        entry["command"]
        for entry in data["commands"]
        if entry["command"] not in taught[entry["skill"].removeprefix("cargo-cli-")]
    )
    assert not misplaced, f"commands missing from the skill that documents them: {misplaced}"
    untaught = sorted(spec.name for spec in get_registry() if spec.http and spec.name not in taught[spec.skill])
    assert not untaught, f"registry commands their skill's guide does not teach: {untaught}"
