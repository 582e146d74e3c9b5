"""A Plan: what an action will do, in a form a person (or a policy) can judge before it runs.

A plan is built from validated params and never sends anything. ``Plan.to_json()`` is the
machine form (the non-TTY refusal prints it); ``Plan.render()`` is the human form the
confirmers show. Secrets are masked in both, by the one masker (:mod:`cargo_shell.secrets`).
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cargo_shell.api.request import ApiRequest
from cargo_shell.executor.local_paths import LocalFile, Proposer
from cargo_shell.registry.effects import EffectiveEffect, effective_effect
from cargo_shell.registry.spec import ArgSpec, CommandSpec, Effect
from cargo_shell.secrets import DEFAULT as MASKER
from cargo_shell.secrets import mask_data, mask_text

if TYPE_CHECKING:
    from pydantic import BaseModel


@dataclass(frozen=True)
class _ArgFacts:
    names: tuple[tuple[str, str], ...]  # (flag name, params attribute), in the spec's order
    unsent: tuple[ArgSpec, ...]  # arguments the API has no field for
    wait: tuple[str, ...]  # the switches that ask to wait for the job (``in: wait``)
    poll: tuple[str, ...]  # the poll interval in ms (``in: poll``)


_FACTS: dict[int, tuple[CommandSpec, _ArgFacts]] = {}


def _facts(spec: CommandSpec) -> _ArgFacts:
    """Facts derived from a spec's arguments, computed once per spec (specs are immutable)."""
    hit = _FACTS.get(id(spec))
    if hit is not None and hit[0] is spec:
        return hit[1]
    facts = _ArgFacts(
        names=tuple((a.name, a.attr) for a in spec.args),
        unsent=tuple(a for a in spec.args if a.location == "unsent"),
        wait=tuple(a.name for a in spec.args if a.location == "wait"),
        poll=tuple(a.name for a in spec.args if a.location == "poll"),
    )
    _FACTS[id(spec)] = (spec, facts)  # keeps the spec alive, so its id is never reused
    return facts


def unsent_args(spec: CommandSpec) -> tuple[ArgSpec, ...]:
    return _facts(spec).unsent


def wants_wait(spec: CommandSpec, values: dict[str, Any]) -> bool:
    """Whether the call asks to wait for its job (a ``wait`` switch is on)."""
    return any(values.get(name) for name in _facts(spec).wait)


def poll_interval_s(spec: CommandSpec, values: dict[str, Any]) -> float | None:
    """The poll interval the call asks for (its ``poll`` argument, in ms), in seconds; None: the job kind's."""
    for name in _facts(spec).poll:
        value = values.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value) / 1000
    return None


def given_values(spec: CommandSpec, params: BaseModel) -> dict[str, Any]:
    """Like :func:`arg_values` but sharing the params' own lists and dicts (no copy): read only."""
    fields = params.__dict__
    return {name: value for name, attr in _facts(spec).names if (value := fields.get(attr)) is not None}


def arg_values(spec: CommandSpec, params: BaseModel) -> dict[str, Any]:
    """{flag name: value} of the arguments that were given, in the spec's order (a deep copy)."""
    dumped = params.model_dump(exclude_none=True)
    if not dumped:
        return {}
    return {name: dumped[attr] for name, attr in _facts(spec).names if attr in dumped}


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
    masked = MASKER.arguments(values)
    for arg in spec.positionals:
        if arg.name in values:
            parts.append(shlex.quote(_flag_text(masked[arg.name], arg.type)))
    for arg in spec.options:
        if arg.name not in values:
            continue
        value = values[arg.name]
        if arg.type == "bool" and value is True:
            parts.append(arg.flag)
        else:
            parts += [arg.flag, shlex.quote(_flag_text(masked[arg.name], arg.type))]
    return " ".join(parts)


@dataclass(frozen=True)
class Touch:
    """One thing the action touches: its kind (workflow, model, segment...), UUID and name if known."""

    kind: str
    uuid: str
    name: str | None = None
    detail: str | None = None

    def label(self) -> str:
        kind = self.kind.replace("_", " ")
        text = f"{kind} {self.name!r} ({self.uuid})" if self.name else f"{kind} {self.uuid}"
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


_UNSET: Any = object()


class Plan:
    """A typed, renderable action. Built by :meth:`Executor.plan`; shown to confirmers.

    ``command_line`` is the exact CLI equivalent; ``request`` the HTTP request with secrets
    masked; ``touches`` names what it acts on; ``estimate`` is set for cost actions;
    ``rollout`` lists the stage sizes when a staged rollout will be used. ``effect`` is what
    this call does, which its arguments may raise above the command's own effect
    (``effect_reasons`` say why; see ``registry.effects``).

    The text forms (``command_line``, ``request``) and ``values`` are computed on first use
    and kept: a read that nobody is asked about never pays for them.

    ``proposer`` says who proposed the action (the person or the model): the policy judges
    the model's proposals more strictly (``--yes`` scope, ``local_files``). ``approval_note``
    and ``approval_hint`` are set by the executor when a special approval class asks: why it
    asks, and what to do when nobody can answer.
    """

    def __init__(
        self,
        spec: CommandSpec,
        params: BaseModel,
        command_line: str | None = None,
        request: dict[str, Any] | None = _UNSET,
        touches: list[Touch] | None = None,
        estimate: Estimate | None = None,
        notices: list[str] | None = None,
        rollout: list[int] | None = None,
        wait: bool = False,
        api_request: ApiRequest | None = None,
        values: dict[str, Any] | None = None,
        proposer: Proposer = "user",
    ) -> None:
        self.spec = spec
        self.params = params
        self._command_line = command_line
        self._request = request
        self.touches: list[Touch] = touches if touches is not None else []
        self.estimate = estimate
        self.notices: list[str] = notices if notices is not None else []
        self.rollout = rollout
        #: For a staged segment/filter batch: the ``recordIds`` data resolved at planning time
        #: (the stages send slices of its ``ids``), and how the stages were made, for people.
        self.rollout_data: dict[str, Any] | None = None
        self.rollout_note: str | None = None
        self.wait = wait
        #: Seconds between polls the call asks for (``--polling-interval``); None: the job kind's interval.
        self.poll_interval_s: float | None = None
        #: The request that will be sent (unmasked; not part of the rendered or JSON forms).
        self.api_request = api_request
        self._values = values
        self._effect: EffectiveEffect | None = None
        self.proposer: Proposer = proposer
        #: ``--yes`` given for this call alone (the policy's own ``assume_yes`` is the process's).
        self.assume_yes = False
        #: Local paths the model proposed (arguments of type ``file``), judged (see ``local_paths``).
        self.local_files: list[LocalFile] = []
        self.approval_note: str | None = None
        self.approval_hint: str | None = None

    def __repr__(self) -> str:
        return f"Plan({self.command!r}, {self.command_line!r})"

    @property
    def values(self) -> dict[str, Any]:
        """Argument values by flag name (unmasked, given ones only, in the spec's order).

        Read only: lists and dicts are shared with ``params``.
        """
        if self._values is None:
            self._values = given_values(self.spec, self.params)
        return self._values

    @property
    def command_line(self) -> str:
        if self._command_line is None:
            self._command_line = command_line(self.spec, self.values)
        return self._command_line

    @property
    def request(self) -> dict[str, Any] | None:
        """The HTTP request with secrets masked (None for multi-step and local commands)."""
        if self._request is _UNSET:
            self._request = describe_request(self.api_request) if self.api_request is not None else None
        return self._request

    @property
    def command(self) -> str:
        return self.spec.name

    @property
    def effect(self) -> Effect:
        """The effect of this call: the command's own, raised by its arguments (``effect_when``)."""
        return self._effective().effect

    @property
    def effect_reasons(self) -> tuple[str, ...]:
        """Why the effect is above the command's own, one line per argument; empty when it is not."""
        return self._effective().reasons

    def _effective(self) -> EffectiveEffect:
        if self._effect is None:
            # most commands have no rule: their effect needs no argument values (hot path of reads)
            self._effect = effective_effect(self.spec, self.values if self.spec.effect_when else {})
        return self._effect

    @property
    def args(self) -> dict[str, Any]:
        """Argument values by flag name, secrets masked."""
        return MASKER.arguments(self.values)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "command": self.command,
            "effect": self.effect,
            **({"effectReasons": list(self.effect_reasons)} if self.effect_reasons else {}),
            "commandLine": self.command_line,
            "arguments": self.args,
            "request": self.request,
            "touches": [{"kind": t.kind, "uuid": t.uuid, "name": t.name, "detail": t.detail} for t in self.touches],
        }
        if self.estimate is not None:
            out["estimate"] = self.estimate.to_json()
        if self.rollout:
            out["rollout"] = self.rollout
            if self.rollout_note:
                out["rolloutNote"] = self.rollout_note
        if self.notices:
            out["notices"] = list(self.notices)
        if self.proposer != "user":
            out["proposedBy"] = self.proposer
        if self.local_files:
            out["localFiles"] = [f.to_json() for f in self.local_files]
        if self.approval_note:
            out["approvalNote"] = self.approval_note
        return mask_data(out)  # type: ignore[no-any-return]

    def render(self) -> str:
        """Plain text for a terminal (no markup), one fact per line."""
        from cargo_shell.value_summary import describe, summarise_line

        lines = [f"{self.effect.upper()} action: {self.command} — {self.spec.summary}"]
        lines += [f"  {self.effect} because {reason}" for reason in self.effect_reasons]
        lines.append(f"  $ {summarise_line(self.command_line, limit=400)}")
        if self.request:
            req = self.request
            lines.append(f"  request: {req['method']} {req['path']}")
            body = req.get("body")
            if body not in (None, {}):
                text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
                lines.append(f"  body: {text if len(text) <= 400 else describe(body, size=len(text.encode()))}")
        for touch in self.touches:
            lines.append(f"  touches: {touch.label()}")
        if self.estimate is not None:
            lines.append(f"  estimate: {self.estimate.label()}")
        if self.rollout:
            lines.append("  staged rollout: " + " → ".join(str(s) for s in self.rollout) + " records")
            if self.rollout_note:
                lines.append(f"    {self.rollout_note}")
        for notice in self.notices:
            lines.append(f"  note: {notice}")
        for local in self.local_files:
            lines.append(f"  local file: {local.label()}")
        if self.approval_note:
            lines.append(f"  asks because: {self.approval_note}")
        return mask_text("\n".join(lines))


def describe_request(req: ApiRequest) -> dict[str, Any]:
    """``ApiRequest.describe()`` with secrets masked."""
    described = req.describe()
    return mask_data(described)  # type: ignore[no-any-return]
