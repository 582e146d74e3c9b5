"""How far one request may go: tool calls per model reply and per turn, and model time per turn.

Each limit is read from the environment first, then the profile's ``settings`` in the config
file, then the default here. A value that is not a positive number is a configuration error
naming the setting, not a silent default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cargo_shell.errors import ConfigError

DEFAULT_CALLS_PER_REPLY = 16
DEFAULT_CALLS_PER_TURN = 48
DEFAULT_MODEL_SECONDS_PER_TURN = 180.0


@dataclass(frozen=True)
class Setting:
    """One tunable: its environment variable and its profile setting."""

    env: str
    key: str

    def describe(self) -> str:
        return f"{self.env} (profile setting {self.key})"


CALLS_PER_REPLY = Setting("CARGO_SHELL_MAX_TOOL_CALLS_PER_REPLY", "max_tool_calls_per_reply")
CALLS_PER_TURN = Setting("CARGO_SHELL_MAX_TOOL_CALLS_PER_TURN", "max_tool_calls_per_turn")
TURN_TIMEOUT = Setting("CARGO_SHELL_LLM_TURN_TIMEOUT", "llm_turn_timeout")


def read_number(
    setting: Setting,
    environ: Mapping[str, str],
    settings: Mapping[str, Any] | None,
    default: float,
    *,
    whole: bool,
    zero_ok: bool = False,
) -> float:
    """The setting's value (environment, then profile, then ``default``); must be > 0 (or >= 0)."""
    raw = environ.get(setting.env)
    if raw is None or not str(raw).strip():
        raw = (settings or {}).get(setting.key)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return default
    try:
        value = float(raw) if not isinstance(raw, bool) else None
    except (TypeError, ValueError):
        value = None
    if value is None or value < 0 or (value == 0 and not zero_ok) or (whole and not value.is_integer()):
        least = 0 if zero_ok else 1
        kind = f"a whole number of at least {least}" if whole else "a number of seconds above 0"
        raise ConfigError(
            f"{setting.describe()} must be {kind}, got {raw!r}",
            hint=f"Fix or unset {setting.env}; the default is {default:g}.",
        )
    return value


@dataclass(frozen=True)
class AgentLimits:
    """Bounds of one turn (one user message): see the module docstring for where they come from.

    ``calls_per_reply``: tool calls run from one model reply (the rest get a "not run" result);
    ``calls_per_turn``: tool calls run in the whole turn; ``model_seconds``: time spent waiting
    for the model in the whole turn (tool runs and the person's answers do not count).
    """

    calls_per_reply: int = DEFAULT_CALLS_PER_REPLY
    calls_per_turn: int = DEFAULT_CALLS_PER_TURN
    model_seconds: float = DEFAULT_MODEL_SECONDS_PER_TURN

    @classmethod
    def from_settings(cls, environ: Mapping[str, str], settings: Mapping[str, Any] | None = None) -> AgentLimits:
        return cls(
            calls_per_reply=int(read_number(CALLS_PER_REPLY, environ, settings, DEFAULT_CALLS_PER_REPLY, whole=True)),
            calls_per_turn=int(read_number(CALLS_PER_TURN, environ, settings, DEFAULT_CALLS_PER_TURN, whole=True)),
            model_seconds=read_number(TURN_TIMEOUT, environ, settings, DEFAULT_MODEL_SECONDS_PER_TURN, whole=False),
        )
