"""The command line's confirmers: a y/n/e/a question on a terminal, or nobody to ask.

The executor asks a confirmer only when its policy says "ask" (see ``executor/confirm.py`` for
the protocol). On a terminal :class:`StdinConfirmer` shows the plan on stderr and reads the
answer from stdin; without one there is nobody to ask, and such actions are refused (exit 3).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import tempfile
from typing import IO, TYPE_CHECKING, Any

from cargo_shell.executor.confirm import Approval, InterruptChoice

if TYPE_CHECKING:
    from cargo_shell.commands.context import Context
    from cargo_shell.executor import Confirmer
    from cargo_shell.executor.plan import Plan


def tty_confirmer(ctx: Context) -> Confirmer | None:
    """The terminal confirmer when a person is there (stdin and stdout a terminal); None otherwise."""
    if not ctx.env.interactive:
        return None
    return StdinConfirmer(ctx.env.stdin, ctx.env.stderr, ctx.env.environ)


def stdin_confirmer(ctx: Context) -> Confirmer | None:
    """The command line's confirmer: asks when stdin is a terminal (the answer is typed there)."""
    if not ctx.env.stdin_isatty:
        return None
    return StdinConfirmer(ctx.env.stdin, ctx.env.stderr, ctx.env.environ)


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
