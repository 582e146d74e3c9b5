"""`cargo-shell` with no arguments: onboard on the first interactive run, then open the shell."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cargo_shell.commands.context import Context


def open_shell(ctx: Context, argv: list[str]) -> int:
    from cargo_shell.repl.app import Repl
    from cargo_shell.repl.onboard import is_onboarded

    ctx.announce_sandbox = False  # the banner and the toolbar name the target instead
    resumed = None
    if "--resume" in argv or ctx.globals.get("resume"):
        from cargo_shell.repl.transcript import ConversationStore

        resumed = ConversationStore(ctx.env.paths.conversations_dir).latest()
    conversation, transcript = resumed if resumed else (None, None)
    repl = Repl(ctx, transcript=transcript, conversation=conversation)
    if ctx.env.interactive and not is_onboarded(ctx):
        from cargo_shell.repl.onboard import Onboarding, terminal_ask

        try:
            Onboarding(ctx, ask=terminal_ask(), console=repl.console).run()
        except (EOFError, KeyboardInterrupt):
            repl.console.print("\nOnboarding skipped; `cargo-shell onboard` runs it again.")
            from cargo_shell.repl.onboard import mark_onboarded

            mark_onboarded(ctx)
        repl = Repl(ctx, transcript=transcript, conversation=conversation)
    if transcript is not None:
        repl.console.print(
            f"[dim]Resumed conversation {transcript.conversation_id} "
            f"({len(transcript.inputs)} inputs, {len(transcript.commands)} commands).[/dim]"
        )
    elif "--resume" in argv or ctx.globals.get("resume"):
        repl.console.print("[dim]No saved conversation to resume: starting a new one.[/dim]")
    return repl.run()
