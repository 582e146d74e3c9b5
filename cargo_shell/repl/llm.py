"""What the shell says about the language model: how to configure one, and what a conversation cost.

The settings themselves are in :mod:`cargo_shell.commands.providers`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cargo_shell.commands.providers import DEFAULT, PRICES, cost_of, provider

if TYPE_CHECKING:
    from rich.console import Console

    from cargo_shell.agent.conversation import Conversation


def explain_no_model(console: Console) -> None:
    local = provider("compatible")
    console.print(
        "[bold]No language model is configured[/bold], so plain-words requests cannot be answered yet.\n"
        "Set one up with [bold]cargo-shell onboard[/bold], or in your shell:\n"
        f"  OpenAI:  [cyan]export OPENAI_API_KEY=sk-...[/cyan]  (optional: CARGO_SHELL_MODEL={DEFAULT.model})\n"
        f"  Ollama:  [cyan]export OPENAI_BASE_URL={local.base_url}[/cyan] "
        f"[cyan]CARGO_SHELL_MODEL={local.model}[/cyan]\n"
        "Meanwhile every command works here, with Tab completion: "
        "[bold]storage model list --output table[/bold], [bold]whoami[/bold], /help."
    )


def usage_report(conversation: Conversation) -> str:
    """Tokens and estimated cost of a conversation (cost only for models with a known price)."""
    totals = conversation.totals()
    prompt, completion = totals["prompt_tokens"], totals["completion_tokens"]
    costs = [cost_of(u.model, u.prompt_tokens, u.completion_tokens) for u in conversation.usage]
    models = sorted({u.model for u in conversation.usage})
    if not conversation.usage:
        return "No model calls in this conversation yet: 0 tokens, $0."
    if all(c is not None for c in costs):
        price = f"about ${sum(c or 0.0 for c in costs):.4f}"
    else:
        price = "cost unknown for " + ", ".join(m for m in models if m not in PRICES)
    return (
        f"This conversation: {totals['calls']} model call(s), {prompt:,} prompt + {completion:,} completion "
        f"= {prompt + completion:,} tokens; {price} (model {', '.join(models)})."
    )
