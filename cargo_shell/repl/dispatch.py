"""One line typed in the shell → a slash command, a direct command, or a turn of the conversation.

Whatever goes wrong is shown as one line with its fix. An unexpected error (a bug) is shown the
same way; its traceback goes to the crash log in the state folder (secrets masked; on the
screen with ``--debug``) and the line says where.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cargo_shell.errors import CargoShellError, Declined, Interrupted, UsageError
from cargo_shell.repl.parse import parse_line
from cargo_shell.repl.slash import ExitShell

if TYPE_CHECKING:
    from cargo_shell.repl.app import Repl
    from cargo_shell.repl.brain import Brain
    from cargo_shell.repl.parse import ParsedInput


class Router:
    def __init__(self, shell: Repl) -> None:
        self.shell = shell
        self._brain: Brain | None = None

    def forget_agent(self) -> None:
        """The next request builds the agent again (another model, a new conversation)."""
        self._brain = None

    def handle(self, text: str) -> bool:
        """Route one line and show what went wrong; False when the shell is to end (/exit)."""
        shell = self.shell
        parsed = parse_line(text, shell.registry)
        if parsed.kind == "empty":
            return True
        shell.transcript.inputs.append(parsed.text)
        try:
            self._route(parsed)
        except ExitShell:
            return False
        except KeyboardInterrupt:
            shell.console.print("[yellow]Cancelled.[/yellow]")
        except (Declined, Interrupted) as exc:
            shell.console.print(exc.message, style="yellow", markup=False)
        except CargoShellError as exc:
            from cargo_shell.render.errors import show_error

            show_error(shell.console, exc)
        except Exception as exc:
            self._bug(exc)
        finally:
            shell.quiet()
            shell.count_jobs()
        return True

    def _route(self, parsed: ParsedInput) -> None:
        if parsed.error:
            raise CargoShellError(parsed.error, hint="Close the quote, or end the line with \\ to continue it.")
        if parsed.suggestion is not None:
            raise UsageError(
                f"`{parsed.text}` is not a command. Did you mean `{parsed.suggestion}`?",
                hint="Nothing was sent. Retype it, or ask in plain words.",
            )
        if parsed.kind == "slash":
            from cargo_shell.repl.slash import run_slash

            run_slash(self.shell, parsed)
        elif parsed.kind == "direct":
            from cargo_shell.repl.direct import run_direct

            run_direct(self.shell, parsed.argv)
            self.shell.refresh_soon()
        else:
            self.converse(parsed.text)

    def converse(self, text: str) -> None:
        from cargo_shell.repl.brain import Brain
        from cargo_shell.repl.llm import explain_no_model

        shell = self.shell
        if not shell.brain_available():
            explain_no_model(shell.console)
            return
        if self._brain is None:
            self._brain = Brain(shell, shell.fixed_model)
        self._brain.turn(text)
        shell.refresh_soon()

    def _bug(self, exc: Exception) -> None:
        from cargo_shell.render.errors import show_error

        shell = self.shell
        if shell.ctx.debug:
            import traceback

            traceback.print_exc(file=shell.ctx.env.stderr)
            show_error(shell.console, exc)
            return
        from cargo_shell.crash_log import log_crash

        show_error(shell.console, exc, crash_log=log_crash(shell.ctx.env))
