"""Language-model setup as a table of providers: which server, which model by default, and the
settings that choose them.

The agent's adapter speaks the OpenAI Chat Completions API, so a provider is a server that speaks
it: OpenAI itself (a key) or any compatible one (Ollama, vLLM, LM Studio: a URL). The settings are
read environment first (``OPENAI_API_KEY``, ``OPENAI_BASE_URL``, ``CARGO_SHELL_MODEL``), then the
profile's ``settings`` (``model``, ``openai_base_url``), then the provider's default. Onboarding
writes those settings and keeps an API key, when given, in the credential store under
``openai@<profile>``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cargo_shell.agent.limits import AgentLimits
    from cargo_shell.agent.openai_model import ModelSettings, OpenAIChatModel
    from cargo_shell.commands.context import Context


@dataclass(frozen=True)
class Provider:
    name: str
    #: What onboarding calls it.
    label: str
    #: Its server (None: the OpenAI API the SDK knows).
    base_url: str | None
    #: The model used when nothing else names one.
    model: str
    needs_key: bool


PROVIDERS: tuple[Provider, ...] = (
    Provider("openai", "OpenAI (needs an API key)", None, "gpt-4o-mini", needs_key=True),
    Provider(
        "compatible",
        "a local or other OpenAI-compatible server, e.g. Ollama",
        "http://localhost:11434/v1",
        "llama3.1",
        needs_key=False,
    ),
)
#: The provider whose model is the default when none is set.
DEFAULT = PROVIDERS[0]

#: USD per million tokens (input, output) for the models we can price; others show tokens only.
PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
}


def provider(name: str) -> Provider:
    return next(p for p in PROVIDERS if p.name == name)


def _key_name(ctx: Context) -> str:
    return f"openai@{ctx.resolved().profile}"


def model_settings(ctx: Context, session: str | None = None) -> ModelSettings:
    """The adapter's settings; ``session`` is a model chosen with ``/model`` (it wins over the rest)."""
    from cargo_shell.agent.openai_model import model_settings as adapter_settings

    settings = adapter_settings(ctx.env.environ, ctx.resolved().settings, default_model=DEFAULT.model)
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
    return DEFAULT.model, "the default"


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


def agent_limits(ctx: Context) -> AgentLimits:
    """Tool-call caps and the model-time budget of a turn (environment, then profile settings)."""
    from cargo_shell.agent.limits import AgentLimits

    return AgentLimits.from_settings(ctx.env.environ, ctx.resolved().settings)


def make_model(ctx: Context, session: str | None = None) -> OpenAIChatModel:
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


def cost_of(model: str | None, prompt_tokens: int, completion_tokens: int) -> float | None:
    price = PRICES.get(model or "")
    if price is None:
        return None
    return (prompt_tokens * price[0] + completion_tokens * price[1]) / 1_000_000
