"""A Plan: what an action will do, in a form a person (or a policy) can judge before it runs.

A plan is built from validated params and never sends anything. ``Plan.to_json()`` is the
machine form (the non-TTY refusal prints it); ``Plan.render()`` is the human form the
confirmers show. Secrets are masked in both.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from cargo_shell.api.request import ApiRequest
from cargo_shell.registry.spec import CommandSpec, Effect

MASK = "********"
_SECRET_KEY = re.compile(r"(token|secret|password|passwd|api[-_]?key|authorization|credential|private[-_]?key)", re.I)


def is_secret_key(key: str) -> bool:
    return bool(_SECRET_KEY.search(key))


def mask_secrets(value: Any) -> Any:
    """A copy of ``value`` with the values of secret-looking keys replaced by a mask."""
    if isinstance(value, dict):
        return {
            k: (MASK if is_secret_key(str(k)) and v not in (None, "") else mask_secrets(v)) for k, v in value.items()
        }
    if isinstance(value, list):
        return [mask_secrets(v) for v in value]
    return value


def arg_values(spec: CommandSpec, params: BaseModel) -> dict[str, Any]:
    """{flag name: value} of the arguments that were given, in the spec's order."""
    dumped = params.model_dump(by_alias=False, exclude_none=True)
    return {a.name: dumped[a.attr] for a in spec.args if a.attr in dumped}


def _flag_text(value: Any, arg_type: str) -> str:
    if arg_type == "json" or isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        if all(isinstance(v, str) and "," not in v for v in value):
            return ",".join(value)
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def command_line(spec: CommandSpec, values: dict[str, Any]) -> str:
    """The copy-pasteable ``cargo-shell ...`` line for these argument values (secrets masked)."""
    parts = ["cargo-shell", *spec.words]
    for arg in spec.positionals:
        if arg.name in values:
            parts.append(shlex.quote(_flag_text(values[arg.name], arg.type)))
    for arg in spec.options:
        if arg.name not in values:
            continue
        value = values[arg.name]
        if is_secret_key(arg.name):
            parts += [arg.flag, MASK]
        elif arg.type == "bool" and value is True:
            parts.append(arg.flag)
        else:
            shown = mask_secrets(value) if arg.type == "json" else value
            parts += [arg.flag, shlex.quote(_flag_text(shown, arg.type))]
    return " ".join(parts)


@dataclass(frozen=True)
class Touch:
    """One thing the action touches: its kind (workflow, model, segment...), UUID and name if known."""

    kind: str
    uuid: str
    name: str | None = None
    detail: str | None = None

    def label(self) -> str:
        text = f"{self.kind} {self.name!r} ({self.uuid})" if self.name else f"{self.kind} {self.uuid}"
        return f"{text}, {self.detail}" if self.detail else text


@dataclass(frozen=True)
class Estimate:
    """Expected size and cost of a cost action; any part may be unknown (None)."""

    records: int | None = None
    credits: float | None = None
    basis: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"records": self.records, "credits": self.credits, "basis": self.basis}

    def label(self) -> str:
        recs = "unknown number of records" if self.records is None else f"{self.records} record(s)"
        cost = "credits unknown" if self.credits is None else f"~{self.credits:g} credits"
        return f"{recs}, {cost}" + (f" ({self.basis})" if self.basis else "")


@dataclass
class Plan:
    """A typed, renderable action. Built by :meth:`Executor.plan`; shown to confirmers.

    ``command_line`` is the exact CLI equivalent; ``request`` the HTTP request with secrets
    masked; ``touches`` names what it acts on; ``estimate`` is set for cost actions;
    ``rollout`` lists the stage sizes when a staged rollout will be used.
    """

    spec: CommandSpec
    params: BaseModel
    command_line: str
    request: dict[str, Any] | None
    touches: list[Touch] = field(default_factory=list)
    estimate: Estimate | None = None
    notices: list[str] = field(default_factory=list)
    rollout: list[int] | None = None
    wait: bool = False
    #: The request that will be sent (unmasked; not part of the rendered or JSON forms).
    api_request: ApiRequest | None = field(default=None, repr=False)

    @property
    def command(self) -> str:
        return self.spec.name

    @property
    def effect(self) -> Effect:
        return self.spec.effect

    @property
    def args(self) -> dict[str, Any]:
        """Argument values by flag name, secrets masked."""
        values = arg_values(self.spec, self.params)
        return {k: (MASK if is_secret_key(k) else mask_secrets(v)) for k, v in values.items()}

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "command": self.command,
            "effect": self.effect,
            "commandLine": self.command_line,
            "arguments": self.args,
            "request": self.request,
            "touches": [{"kind": t.kind, "uuid": t.uuid, "name": t.name, "detail": t.detail} for t in self.touches],
        }
        if self.estimate is not None:
            out["estimate"] = self.estimate.to_json()
        if self.rollout:
            out["rollout"] = self.rollout
        if self.notices:
            out["notices"] = list(self.notices)
        return out

    def render(self) -> str:
        """Plain text for a terminal (no markup), one fact per line."""
        lines = [f"{self.effect.upper()} action: {self.command} — {self.spec.summary}", f"  $ {self.command_line}"]
        if self.request:
            req = self.request
            lines.append(f"  request: {req['method']} {req['path']}")
            body = req.get("body")
            if body not in (None, {}):
                text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
                lines.append(f"  body: {text if len(text) <= 400 else text[:397] + '...'}")
        for touch in self.touches:
            lines.append(f"  touches: {touch.label()}")
        if self.estimate is not None:
            lines.append(f"  estimate: {self.estimate.label()}")
        if self.rollout:
            lines.append("  staged rollout: " + " → ".join(str(s) for s in self.rollout) + " records")
        for notice in self.notices:
            lines.append(f"  note: {notice}")
        return "\n".join(lines)


def describe_request(req: ApiRequest) -> dict[str, Any]:
    """``ApiRequest.describe()`` with secrets masked."""
    described = req.describe()
    return mask_secrets(described)  # type: ignore[no-any-return]
