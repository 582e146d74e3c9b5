"""Language-model settings of the shell: which model, where, and with which key.

The agent's adapter reads ``OPENAI_API_KEY``, ``OPENAI_BASE_URL`` and ``CARGO_SHELL_MODEL`` first,
then the profile's ``settings`` (``model``, ``openai_base_url``). Onboarding writes those settings
and keeps an API key, when given, in the credential store under ``openai@<profile>``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from cargo_shell.agent.conversation import Conversation
    from cargo_shell.session import Context

#: USD per million tokens (input, output) for the models we can price; others show tokens only.
PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
}


def _key_name(ctx: Context) -> str:
    return f"openai@{ctx.resolved().profile}"


def model_settings(ctx: Context, session: str | None = None) -> Any:
    """The adapter's settings; ``session`` is a model chosen with ``/model`` (it wins over the rest)."""
    from dataclasses import replace

    from cargo_shell.agent.openai_model import model_settings as agent_settings

    settings = agent_settings(ctx.env.environ, ctx.resolved().settings)
    if session:
        settings = replace(settings, model=session)
    if settings.api_key is None:
        stored = ctx.store.get_token(_key_name(ctx))
        if stored:
            settings = replace(settings, api_key=stored)
    return settings


def model_configured(ctx: Context) -> bool:
    environ = ctx.env.environ
    if environ.get("OPENAI_API_KEY") or environ.get("OPENAI_BASE_URL"):
        return True
    try:
        settings = ctx.resolved().settings
        return bool(settings.get("openai_base_url") or ctx.store.get_token(_key_name(ctx)))
    except Exception:
        return False


def model_choice(ctx: Context, session: str | None = None) -> tuple[str, str]:
    """(model name, where it comes from): ``/model`` in this session, the environment, the profile, the default."""
    if session:
        return session, "set with /model for this session"
    if ctx.env.environ.get("CARGO_SHELL_MODEL"):
        return ctx.env.environ["CARGO_SHELL_MODEL"], "from CARGO_SHELL_MODEL"
    resolved = ctx.resolved()
    if resolved.settings.get("model"):
        return str(resolved.settings["model"]), f"profile {resolved.profile!r} in the config file"
    return "gpt-4o-mini", "the default"


def current_model_name(ctx: Context, session: str | None = None) -> str | None:
    if not model_configured(ctx):
        return None
    return model_choice(ctx, session)[0]


def _update_settings(ctx: Context, values: dict[str, Any]) -> None:
    profile = ctx.resolved().profile
    settings = dict(ctx.store.profile(profile).get("settings") or {})
    for key, value in values.items():
        if value is None:
            settings.pop(key, None)
        else:
            settings[key] = value
    ctx.store.set_profile(profile, {"settings": settings})


def set_model(ctx: Context, name: str) -> None:
    _update_settings(ctx, {"model": name})


def save_model_settings(ctx: Context, *, model: str, base_url: str | None, api_key: str | None) -> None:
    _update_settings(ctx, {"model": model, "openai_base_url": base_url})
    if api_key:
        ctx.store.set_token(_key_name(ctx), api_key)


def agent_limits(ctx: Context) -> Any:
    """Tool-call caps and the model-time budget of a turn (environment, then profile settings)."""
    from cargo_shell.agent.limits import AgentLimits

    return AgentLimits.from_settings(ctx.env.environ, ctx.resolved().settings)


def make_model(ctx: Context, session: str | None = None) -> Any:
    from cargo_shell.agent.openai_model import OpenAIChatModel

    return OpenAIChatModel(model_settings(ctx, session))


def test_model(ctx: Context) -> tuple[bool, str]:
    """One tiny request; (ok, the reply or the error)."""
    from cargo_shell.agent.model import TextDelta

    try:
        model = make_model(ctx)
        text = ""
        for item in model.stream([{"role": "user", "content": "Reply with the single word: ready"}], []):
            if isinstance(item, TextDelta):
                text += item.text
        return True, (text.strip() or "(empty reply)")[:80]
    except Exception as exc:
        return False, str(getattr(exc, "message", exc))[:200]


def explain_no_model(console: Console) -> None:
    console.print(
        "[bold]No language model is configured[/bold], so plain-words requests cannot be answered yet.\n"
        "Set one up with [bold]cargo-shell onboard[/bold], or in your shell:\n"
        "  OpenAI:  [cyan]export OPENAI_API_KEY=sk-...[/cyan]  (optional: CARGO_SHELL_MODEL=gpt-4o-mini)\n"
        "  Ollama:  [cyan]export OPENAI_BASE_URL=http://localhost:11434/v1[/cyan] "
        "[cyan]CARGO_SHELL_MODEL=llama3.1[/cyan]\n"
        "Meanwhile every command works here, with Tab completion: "
        "[bold]storage model list --output table[/bold], [bold]whoami[/bold], /help."
    )


def cost_of(model: str | None, prompt_tokens: int, completion_tokens: int) -> float | None:
    price = PRICES.get(model or "")
    if price is None:
        return None
    return (prompt_tokens * price[0] + completion_tokens * price[1]) / 1_000_000


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
