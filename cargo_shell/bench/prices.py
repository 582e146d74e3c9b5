"""Estimated LLM cost of a run: the shell's price table, or prices given on the command line."""

from __future__ import annotations

from collections.abc import Sequence


def cost_of_calls(usage: Sequence[tuple[str, int, int]], prices: tuple[float, float] | None) -> float | None:
    """USD for the calls' (model, prompt tokens, completion tokens); None when a model has no price.

    ``prices`` (USD per million input and output tokens) overrides the table for every call.
    """
    from cargo_shell.commands.providers import cost_of

    total = 0.0
    for model, prompt, completion in usage:
        if prices is not None:
            total += (prompt * prices[0] + completion * prices[1]) / 1_000_000
            continue
        cost = cost_of(model, prompt, completion)
        if cost is None:
            return None
        total += cost
    return round(total, 6)


def parse_prices(text: str) -> tuple[float, float]:
    """``"0.15,0.60"`` → (0.15, 0.6): USD per million input and output tokens."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 2:
        raise ValueError("give two prices: input,output in USD per million tokens (e.g. 0.15,0.60)")
    values = (float(parts[0]), float(parts[1]))
    if min(values) < 0:
        raise ValueError("prices cannot be negative")
    return values
