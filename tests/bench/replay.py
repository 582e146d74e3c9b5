"""An OpenAI-compatible stub that plays the tasks' own scripts: a stand-in for a real model.

Each request is matched to its task by the conversation's first user message; the task's oracle
(or, for the ids in ``decoys``, its decoy) gives the reply, exactly as the scripted model would.
Usage is reported from the request's size, so token counts and costs are not all alike.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from cargo_shell.agent.model import TextDelta, ToolCall
from cargo_shell.bench.scripted import ScriptedModel
from cargo_shell.bench.suite import PING
from cargo_shell.bench.task import Task, load_tasks
from cargo_shell.secrets import MASK
from tests.repl.stub_llm import Reply


def usage_for(messages: list[dict[str, Any]], reply_text: str) -> tuple[int, int]:
    return len(json.dumps(messages)) // 4, 20 + len(reply_text) // 4


def _task_of(prompt: str, tasks: list[Task]) -> Task:
    """The task whose first turn is ``prompt`` (where the agent masked a value it learned as a
    secret during the run, ``«masked»`` stands for it)."""
    pattern = re.compile(".+?".join(re.escape(piece) for piece in prompt.split(MASK)), re.S)
    hits = [t for t in tasks if pattern.fullmatch(t.turns[0])]
    if len(hits) != 1:
        raise LookupError(f"no single task starts with {prompt!r}")
    return hits[0]


def replay_responder(decoys: Iterable[str] = (), tasks: list[Task] | None = None) -> Any:
    known = tasks or load_tasks()
    wrong = set(decoys)

    def respond(messages: list[dict[str, Any]]) -> Reply:
        first = next(m["content"] for m in messages if m.get("role") == "user")
        if first == PING:  # the benchmark checks the model is there before it starts
            return Reply("ready", usage=(12, 1))
        task = _task_of(first, known)
        mode = "decoy" if task.id in wrong else "oracle"
        items = ScriptedModel(task.script(mode), name=mode).reply(messages)
        text = "".join(i.text for i in items if isinstance(i, TextDelta))
        calls = [i for i in items if isinstance(i, ToolCall)]
        pairs = [(c.name, json.loads(c.arguments)) for c in calls]
        written = text + "".join(c.arguments for c in calls)
        return Reply(text, pairs, usage=usage_for(messages, written), ids=[c.id for c in calls] or None)

    return respond
