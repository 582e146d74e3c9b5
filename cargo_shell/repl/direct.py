"""Direct commands typed in the shell: `storage model list --output table`, `!whoami`, `jobs`.

Resolved and executed by the commands layer, as on the command line, against the shell's view
of the registry; the result is shown as a table (``--output json``: as JSON).
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING

from cargo_shell.errors import UsageError

if TYPE_CHECKING:
    from cargo_shell.repl.app import Repl


def run_direct(repl: Repl, argv: list[str]) -> None:
    from cargo_shell.commands.execute import execute
    from cargo_shell.commands.resolve import HelpText, resolve
    from cargo_shell.render.results import show_result

    if not argv:
        raise UsageError("Type a command after !, e.g. !storage model list")
    resolved = resolve(repl.registry, argv, repl.ctx.env.stdin)
    if isinstance(resolved, HelpText):
        repl.console.print(resolved.text, markup=False, highlight=False)
        return
    spec = resolved.spec
    output = str(resolved.options.get("output") or "table")
    if spec.own:
        result = execute(repl.ctx, resolved)
        if result.text is not None:
            repl.console.print(result.text, end="", markup=False, highlight=False)
        else:
            show_result(repl.console, result.data, key=result.key, output=output)
        return
    from cargo_shell.value_summary import file_sources

    confirmer = repl.confirmer
    confirmer.sources, confirmer.typed = file_sources(resolved.argv), shlex.join(argv)
    try:
        result = execute(
            repl.ctx,
            resolved,
            executor=repl.executor(),
            wait=True if spec.job is not None else None,
            assume_yes=bool(resolved.options.get("yes")),  # this line's --yes; the shell's policy is shared
        )
    finally:
        repl.progress.stop()
        sources, confirmer.sources, confirmer.typed = confirmer.sources, {}, None
    if result.outcome is not None:
        repl.transcript.record(result.outcome, sources)  # its notices were already shown as executor events
    show_result(repl.console, result.data, key=result.key, output=output)
