"""The effect of one call: its command's effect, raised by the ``effect_when`` rules it meets.

The registry says which argument values make a call more than its command's own effect
(``segmentation segment fetch`` is a read, with ``enrich: true`` it spends credits; SQL that
is not a single read-only query may delete data). Plans, the policy, the agent and help all
read the result of :func:`effective_effect`, so a call is judged by what it does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cargo_shell.registry.spec import SEVERITY, CommandSpec, Effect, EffectRule


@dataclass(frozen=True)
class EffectiveEffect:
    effect: Effect
    #: One line per rule met: which argument, what it is, what the call then does.
    reasons: tuple[str, ...] = ()


_PLAIN: dict[Effect, EffectiveEffect] = {e: EffectiveEffect(e) for e in SEVERITY}


def rule_met(rule: EffectRule, value: Any) -> str | None:
    """What makes ``value`` meet ``rule`` ("is true", "is a DELETE statement"), or None."""
    if rule.key is not None:
        if not isinstance(value, Mapping) or rule.key not in value:
            return None
        value = value[rule.key]
    if rule.test == "sql":
        if not isinstance(value, str):
            return None
        from cargo_shell.registry.sql import classify

        verdict = classify(value)
        return None if verdict.read_only else verdict.detail
    # JSON equality: a switch given as true is not the number 1
    if json.dumps(value, sort_keys=True) == json.dumps(rule.value, sort_keys=True):
        return f"is {json.dumps(rule.value)}"
    return None


def effective_effect(spec: CommandSpec, values: Mapping[str, Any]) -> EffectiveEffect:
    """The effect of calling ``spec`` with these argument values (by argument name)."""
    if not spec.effect_when:
        return _PLAIN[spec.effect]
    effect = spec.effect
    reasons: list[str] = []
    for rule in spec.effect_when:
        if rule.arg not in values or values[rule.arg] is None:
            continue
        detail = rule_met(rule, values[rule.arg])
        if detail is None:
            continue
        flag = spec.arg(rule.arg).flag + (f" {rule.key}" if rule.key else "")
        reasons.append(f"{flag} {detail}: {rule.why}")
        if SEVERITY[rule.effect] > SEVERITY[effect]:
            effect = rule.effect
    return EffectiveEffect(effect, tuple(reasons))
