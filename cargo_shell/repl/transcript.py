"""What happened in a session: the commands that ran (for /save) and the saved conversation.

``/save FILE`` writes a replayable script: one ``cargo-shell ...`` line per command that ran
and succeeded, in order — never the prompts. A JSON value longer than ``BESIDE_OVER``
characters (a 500-record ``--data``) is written whole into ``FILE.data/`` beside the script and
referenced as ``@FILE.data/<n>-<name>.json``; ``replay`` reads such references relative to the
script, so the script stays readable and still replays exactly. Conversations (the agent's messages and token
usage, plus this transcript) are stored as JSON under ``paths.conversations_dir``; ``--resume``
continues the latest. Both are masked when written (:mod:`cargo_shell.secrets`): a key pasted in
a prompt or typed in a command is never stored in clear.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cargo_shell.private_files import open_private

if TYPE_CHECKING:
    from cargo_shell.agent.conversation import Conversation

#: After a command that created something: the UUID it got, so a replay can substitute the new one.
CREATED_MARK = "#> created"
SCRIPT_HEADER = "# cargo-shell session script: replay with `cargo-shell replay FILE [--dry-run]`\n"
#: JSON argument values longer than this go into a file beside the saved script.
BESIDE_OVER = 1000
_BESIDE_NAME = re.compile(r"^\d+-[\w.-]+\.json$")


@dataclass
class Transcript:
    conversation_id: str = field(default_factory=lambda: time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6])
    commands: list[list[str]] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)

    created: dict[int, str] = field(default_factory=dict)
    #: command index → {flag name: the @file its value was read from} (for summaries on screen)
    sources: dict[int, dict[str, str]] = field(default_factory=dict)

    def record_command(
        self, argv: list[str], created: str | None = None, sources: dict[str, str] | None = None
    ) -> None:
        self.commands.append(list(argv))
        if created:
            self.created[len(self.commands) - 1] = created
        if sources:
            self.sources[len(self.commands) - 1] = dict(sources)

    def record(self, outcome: Any, sources: dict[str, str] | None = None) -> None:
        """Record a command the executor ran (its plan's command line, secrets masked)."""
        from cargo_shell.repl.actions import created_uuid, script_argv

        argv = script_argv(outcome)
        if argv:  # a rollout stopped before its first stage was sent ran nothing
            self.record_command(argv, created_uuid(outcome), sources)

    def script(self, beside: str | None = None) -> tuple[str, dict[str, str]]:
        """The script text and the files to write beside it (name → JSON text) in folder ``beside``;
        with no folder every value stays inline."""
        lines = [SCRIPT_HEADER]
        files: dict[str, str] = {}
        for index, argv in enumerate(self.commands):
            words = list(argv)
            if beside is not None:
                for pos, name in _long_json_values(words):
                    source = self.sources.get(index, {}).get(name)
                    stem = re.sub(r"[^\w.-]", "_", Path(source).stem if source else name)
                    file_name = f"{index + 1}-{stem}.json"
                    files[file_name] = json.dumps(json.loads(words[pos]), ensure_ascii=False, indent=1) + "\n"
                    words[pos] = f"@{beside}/{file_name}"
            lines.append("cargo-shell " + shlex.join(words) + "\n")
            if index in self.created:
                lines.append(f"{CREATED_MARK} {self.created[index]}\n")
        return "".join(lines), files

    def save_script(self, path: Path) -> int:
        from cargo_shell.secrets import mask_text

        folder = path.with_name(path.name + ".data")
        text, files = self.script(folder.name)
        path.parent.mkdir(parents=True, exist_ok=True)
        if folder.is_dir():  # values of an earlier save to the same name
            for old in folder.iterdir():
                if _BESIDE_NAME.match(old.name):
                    old.unlink()
        if files:
            folder.mkdir(exist_ok=True)
            for name, content in files.items():
                (folder / name).write_text(mask_text(content), encoding="utf-8")
        path.write_text(mask_text(text), encoding="utf-8")
        return len(self.commands)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.conversation_id,
            "commands": self.commands,
            "created": {str(k): v for k, v in self.created.items()},
            "sources": {str(k): v for k, v in self.sources.items()},
            "inputs": self.inputs,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Transcript:
        out = cls(conversation_id=str(data.get("id") or cls().conversation_id))
        out.commands = [list(map(str, c)) for c in data.get("commands", []) if isinstance(c, list)]
        out.created = {int(k): str(v) for k, v in (data.get("created") or {}).items()}
        out.sources = {
            int(k): {str(f): str(s) for f, s in v.items()}
            for k, v in (data.get("sources") or {}).items()
            if isinstance(v, dict)
        }
        out.inputs = [str(i) for i in data.get("inputs", [])]
        return out


class ConversationStore:
    """One JSON file per conversation: the agent's conversation plus the shell's transcript."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def save(self, conversation: Conversation, transcript: Transcript) -> Path | None:
        from cargo_shell.secrets import mask_data

        if not (transcript.inputs or transcript.commands or conversation.messages):
            return None
        data = conversation.to_json()
        data["shell"] = transcript.to_json()
        data = mask_data(data)
        path = self.folder / f"{conversation.id}.json"
        tmp = path.with_suffix(".tmp")
        fd = open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, ensure_ascii=False, indent=1)
        os.replace(tmp, path)
        return path

    def latest(self) -> tuple[Conversation, Transcript] | None:
        from cargo_shell.agent.conversation import Conversation

        if not self.folder.is_dir():
            return None
        files = sorted(self.folder.glob("*.json"), key=lambda p: (p.stat().st_mtime, p.name))
        for path in reversed(files):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                conversation = Conversation.from_json(data)
            except (OSError, ValueError, KeyError, TypeError):
                continue
            shell = data.get("shell") if isinstance(data.get("shell"), dict) else {}
            transcript = Transcript.from_json({**shell, "id": conversation.id})
            return conversation, transcript
        return None


def _long_json_values(argv: list[str]) -> list[tuple[int, str]]:
    """(position, flag name) of the JSON-argument values in ``argv`` longer than ``BESIDE_OVER``."""
    from cargo_shell.registry import get_registry

    spec, _used = get_registry().match(argv)
    if spec is None:
        return []
    out = []
    for pos in range(1, len(argv)):
        flag, word = argv[pos - 1], argv[pos]
        if not flag.startswith("--") or len(word) <= BESIDE_OVER:
            continue
        try:
            if spec.arg(flag[2:]).type != "json":
                continue
            json.loads(word)
        except (KeyError, ValueError):
            continue
        out.append((pos, flag[2:]))
    return out


@dataclass
class ScriptLine:
    number: int
    argv: list[str]
    created: str | None = None


def read_script(text: str) -> list[ScriptLine]:
    """Parse a saved script: ``cargo-shell`` lines (the prefix is optional), comments skipped."""
    out: list[ScriptLine] = []
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith(CREATED_MARK) and out:
            out[-1].created = stripped[len(CREATED_MARK) :].strip() or None
            continue
        if not stripped or stripped.startswith("#"):
            continue
        try:
            words = shlex.split(stripped)
        except ValueError as exc:
            raise ValueError(f"line {number}: {exc}") from None
        if words and words[0] == "cargo-shell":
            words = words[1:]
        if words:
            out.append(ScriptLine(number, words))
    return out
