"""What happened in a session: the commands that ran (for /save) and the saved conversation.

``/save FILE`` writes a replayable script: one ``cargo-shell ...`` line per command that ran
and succeeded, in order — never the prompts. Conversations (the agent's messages and token
usage, plus this transcript) are stored as JSON under ``paths.conversations_dir``; ``--resume``
continues the latest. Both are masked when written (:mod:`cargo_shell.secrets`): a key pasted in
a prompt or typed in a command is never stored in clear.
"""

from __future__ import annotations

import json
import os
import shlex
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cargo_shell.agent.conversation import Conversation

#: After a command that created something: the UUID it got, so a replay can substitute the new one.
CREATED_MARK = "#> created"
SCRIPT_HEADER = "# cargo-shell session script: replay with `cargo-shell replay FILE [--dry-run]`\n"


@dataclass
class Transcript:
    conversation_id: str = field(default_factory=lambda: time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6])
    commands: list[list[str]] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)

    created: dict[int, str] = field(default_factory=dict)

    def record_command(self, argv: list[str], created: str | None = None) -> None:
        self.commands.append(list(argv))
        if created:
            self.created[len(self.commands) - 1] = created

    def record(self, outcome: Any) -> None:
        """Record a command the executor ran (its plan's command line, secrets masked)."""
        from cargo_shell.repl.actions import created_uuid, script_argv

        self.record_command(script_argv(outcome), created_uuid(outcome))

    def script(self) -> str:
        lines = [SCRIPT_HEADER]
        for index, argv in enumerate(self.commands):
            lines.append("cargo-shell " + shlex.join(argv) + "\n")
            if index in self.created:
                lines.append(f"{CREATED_MARK} {self.created[index]}\n")
        return "".join(lines)

    def save_script(self, path: Path) -> int:
        from cargo_shell.secrets import mask_text

        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(mask_text(self.script()), encoding="utf-8")
        return len(self.commands)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.conversation_id,
            "commands": self.commands,
            "created": {str(k): v for k, v in self.created.items()},
            "inputs": self.inputs,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Transcript:
        out = cls(conversation_id=str(data.get("id") or cls().conversation_id))
        out.commands = [list(map(str, c)) for c in data.get("commands", []) if isinstance(c, list)]
        out.created = {int(k): str(v) for k, v in (data.get("created") or {}).items()}
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
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{conversation.id}.json"
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
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
