"""Who says yes: the Confirmer protocol, the Approval it returns, and the CLI's stdin confirmer.

The executor asks a confirmer only when the :class:`~cargo_shell.executor.policy.Policy`
says "ask"; front ends inject their own (the REPL a prompt_toolkit dialog, the agent one
that turns the question into a loop event and waits for the user's answer). A confirmer
must only ever relay a *person's* answer: an LLM claiming the user agreed is not an answer.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import tempfile
from dataclasses import dataclass, field
from typing import IO, Any, Literal, Protocol, runtime_checkable

from cargo_shell.executor.plan import Plan

Decision = Literal["yes", "no", "always", "edit"]
#: Who approved: a person at this terminal (``user``), a person asked through an MCP client
#: (``mcp``), a policy rule, a flag (``--yes``), or the defaults (reads).
ApprovalSource = Literal["user", "mcp", "rule", "flag", "default"]
InterruptChoice = Literal["cancel", "detach", "continue"]


@dataclass(frozen=True)
class Approval:
    """The answer to one plan.

    ``edit`` carries ``edited_args`` (flag name → value, the full new argument set); the
    executor re-validates, re-plans and asks again. ``always`` approves this command for
    the rest of the session. ``source`` is set by the executor for rule/flag/default
    approvals; confirmers answer with ``user``.
    """

    decision: Decision
    edited_args: dict[str, Any] | None = None
    source: ApprovalSource = "user"
    rule_id: int | None = None

    @property
    def approved(self) -> bool:
        return self.decision in ("yes", "always")


@runtime_checkable
class Confirmer(Protocol):
    def confirm(self, plan: Plan) -> Approval: ...


@runtime_checkable
class InterruptAware(Protocol):
    """Optional: a confirmer that can also answer "Ctrl-C while waiting: cancel or detach?"."""

    def on_interrupt(self, kind: str, job_id: str) -> InterruptChoice: ...


@dataclass
class JobRef:
    kind: str
    job_id: str
    extra: dict[str, Any] = field(default_factory=dict)


class StdinConfirmer:
    """The one-shot CLI's confirmer on a TTY: the plan on stderr, a y/n/e/a answer on stdin."""

    def __init__(self, stdin: IO[str], stderr: IO[str], environ: dict[str, str] | None = None) -> None:
        self.stdin = stdin
        self.stderr = stderr
        self.environ = environ if environ is not None else dict(os.environ)

    def _ask(self, question: str, *, raw: bool = False) -> str:
        self.stderr.write(question)
        self.stderr.flush()
        line = self.stdin.readline()
        if not line:
            return ""
        return line.strip() if raw else line.strip().lower()

    def confirm(self, plan: Plan) -> Approval:
        self.stderr.write(plan.render() + "\n")
        while True:
            answer = self._ask("Proceed? [y]es / [n]o / [e]dit / [a]lways for this command this session: ")
            if answer in ("y", "yes"):
                return Approval("yes")
            if answer in ("n", "no", "", "q"):
                return Approval("no")
            if answer in ("a", "always"):
                return Approval("always")
            if answer in ("e", "edit"):
                edited = self._edit(plan)
                if edited is not None:
                    return Approval("edit", edited_args=edited)
                continue
            self.stderr.write("Please answer y, n, e or a.\n")

    def on_interrupt(self, kind: str, job_id: str) -> InterruptChoice:
        answer = self._ask(f"\nStop waiting for {kind} {job_id}: [c]ancel it remotely / [d]etach / keep [w]aiting? ")
        if answer in ("c", "cancel"):
            return "cancel"
        if answer in ("w", "wait", "continue"):
            return "continue"
        return "detach"

    def _edit(self, plan: Plan) -> dict[str, Any] | None:
        from cargo_shell.executor.plan import arg_values

        current = arg_values(plan.spec, plan.params)
        editor = self.environ.get("VISUAL") or self.environ.get("EDITOR")
        if editor:
            with tempfile.NamedTemporaryFile("w+", suffix=".json", delete=False, encoding="utf-8") as handle:
                json.dump(current, handle, indent=2, ensure_ascii=False)
                path = handle.name
            try:
                subprocess.run([*shlex.split(editor), path], check=False)
                with open(path, encoding="utf-8") as handle:
                    text = handle.read()
            finally:
                os.unlink(path)
        else:
            self.stderr.write("Current arguments: " + json.dumps(current, ensure_ascii=False) + "\n")
            text = self._ask("New arguments as one JSON object (empty to go back): ", raw=True)
        if not text.strip():
            return None
        try:
            edited = json.loads(text)
        except json.JSONDecodeError as exc:
            self.stderr.write(f"Not valid JSON ({exc.msg}); nothing changed.\n")
            return None
        if not isinstance(edited, dict):
            self.stderr.write("Expected a JSON object of flag name → value; nothing changed.\n")
            return None
        return edited
