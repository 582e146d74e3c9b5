"""The shell's confirmer: the plan panel, a y / n / a / e answer, the command line edited in place,
and "cancel, detach or wait?" when Ctrl-C stops the wait for a job."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cargo_shell.errors import CargoShellError

if TYPE_CHECKING:
    from cargo_shell.executor import Approval, InterruptChoice, Plan
    from cargo_shell.repl.app import Repl


class ShellConfirmer:
    def __init__(self, shell: Repl) -> None:
        self.shell = shell
        #: Flags of the direct command being run whose values came from @files (for summaries) ...
        self.sources: dict[str, str] = {}
        #: ... and its words as typed.
        self.typed: str | None = None

    def confirm(self, plan: Plan) -> Approval:
        from cargo_shell.executor import Approval
        from cargo_shell.render.plan import PROMPT, parse_answer, plan_panel

        shell = self.shell
        shell.quiet()
        shell.console.print(plan_panel(plan, self.sources))
        while True:
            try:
                answer = parse_answer(shell.prompt.ask(PROMPT))
            except (EOFError, KeyboardInterrupt):
                answer = "no"
            if answer == "edit":
                edited = self._edit(plan)
                if edited is None:
                    continue
                return Approval("edit", edited_args=edited)
            if answer is not None:
                break
            shell.console.print("Please answer y, n, a or e.")
        shell.console.print(f"[dim]→ {answer}[/dim]")
        return Approval(answer)  # type: ignore[arg-type]

    def _edit(self, plan: Plan) -> dict[str, Any] | None:
        """Edit the command line in place; the executor re-plans and asks again."""
        from cargo_shell.commands.resolve import Invocation, resolve
        from cargo_shell.repl.parse import split_words

        shell = self.shell
        # a value read from an @file is edited as the @file reference, not as its whole JSON
        default = self.typed if self.sources and self.typed else plan.command_line.removeprefix("cargo-shell ")
        text = shell.prompt.ask("edit› ", default=default)
        words, error = split_words(text)
        spec, _used = shell.registry.match(words)
        if error or spec is None or spec.name != plan.spec.name:
            shell.console.print(
                f"[yellow]Keep the command words `{plan.spec.name}`; only the arguments can change.[/yellow]"
            )
            return None
        try:
            edited = resolve(shell.registry, words, shell.ctx.env.stdin)
        except CargoShellError as exc:
            from cargo_shell.render.errors import show_error

            show_error(shell.console, exc)
            return None
        return edited.raw if isinstance(edited, Invocation) else None

    def on_interrupt(self, kind: str, job_id: str) -> InterruptChoice:
        self.shell.quiet()
        try:
            answer = self.shell.prompt.ask(
                f"Stop waiting for {kind} {job_id}: [c]ancel it / [d]etach (keeps running) / [w]ait? "
            )
        except (EOFError, KeyboardInterrupt):
            answer = "d"
        word = answer.strip().lower()
        if word in ("c", "cancel"):
            return "cancel"
        if word in ("w", "wait"):
            return "continue"
        return "detach"
