"""A conversation that can be saved and resumed, with token usage per model call (``/cost``).

Messages are stored masked (they are exactly what the model saw, minus the system prompt,
which is rebuilt on resume so a newer cargo-shell brings its newer prompt); the file is masked
again when written, so values learned since are hidden too.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cargo_shell.agent.model import Message, Usage
from cargo_shell.private_files import open_private
from cargo_shell.secrets import mask_data

FORMAT_VERSION = 1


@dataclass(frozen=True)
class UsageRecord:
    model: str
    prompt_tokens: int
    completion_tokens: int
    at: float

    def to_json(self) -> dict[str, Any]:
        return {"model": self.model, "prompt": self.prompt_tokens, "completion": self.completion_tokens, "at": self.at}


@dataclass
class Conversation:
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    messages: list[Message] = field(default_factory=list)
    usage: list[UsageRecord] = field(default_factory=list)
    created_at: float = field(default_factory=time.time)
    title: str = ""

    def add(self, message: Message) -> None:
        if not self.title and message.get("role") == "user" and isinstance(message.get("content"), str):
            self.title = " ".join(message["content"].split())[:80]
        self.messages.append(message)

    def record_usage(self, model: str, usage: Usage | None, *, at: float | None = None) -> None:
        if usage is not None:
            self.usage.append(UsageRecord(model, usage.prompt_tokens, usage.completion_tokens, at or time.time()))

    def totals(self) -> dict[str, int]:
        prompt = sum(u.prompt_tokens for u in self.usage)
        completion = sum(u.completion_tokens for u in self.usage)
        return {"calls": len(self.usage), "prompt_tokens": prompt, "completion_tokens": completion}

    def to_json(self) -> dict[str, Any]:
        return {
            "version": FORMAT_VERSION,
            "id": self.id,
            "title": self.title,
            "created_at": self.created_at,
            "messages": self.messages,
            "usage": [u.to_json() for u in self.usage],
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Conversation:
        if raw.get("version") != FORMAT_VERSION:
            raise ValueError(f"unsupported conversation format {raw.get('version')!r}")
        return cls(
            id=str(raw["id"]),
            messages=list(raw.get("messages", [])),
            usage=[UsageRecord(u["model"], u["prompt"], u["completion"], u["at"]) for u in raw.get("usage", [])],
            created_at=float(raw.get("created_at", 0.0)),
            title=str(raw.get("title", "")),
        )

    def save(self, folder: Path) -> Path:
        """Write ``<folder>/<id>.json`` (owner-readable only) and return its path."""
        path = folder / f"{self.id}.json"
        tmp = path.with_suffix(".tmp")
        fd = open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(mask_data(self.to_json()), handle, ensure_ascii=False, indent=1)
        os.replace(tmp, path)
        return path

    @classmethod
    def load(cls, path: Path) -> Conversation:
        return cls.from_json(json.loads(path.read_text(encoding="utf-8")))
