"""The seven skill tools: schemas generated from the registry, and the decoding of calls.

One function tool per skill. The always-sent schema is small: the skill's description, a compact
index of its commands (required arguments, effect markers) and three parameters — ``command``,
``args``, ``help``. The full argument schema of a command, and the skill guide, are returned on
demand by ``help`` (progressive disclosure).
"""

from __future__ import annotations

import contextlib
import difflib
import json
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from cargo_shell.agent.model import ToolCall, ToolSchema, parse_arguments
from cargo_shell.agent.skills import SKILL_NAMES, Skill, load_skills
from cargo_shell.errors import UsageError
from cargo_shell.registry import CommandSpec, Registry, get_registry
from cargo_shell.registry.spec import ArgSpec
from cargo_shell.validation import validate_params

#: Effect markers used in the command index (read commands carry none).
EFFECT_MARK = {"read": "", "write": "[w]", "destructive": "[!]", "cost": "[$]"}

#: How to read the command index; said once in the system prompt rather than in each tool.
INDEX_LEGEND = (
    "Each tool description ends with its command index, `domain [resource: verb(required args), ...; ...]`: "
    '`ai [chat: get(chat-uuid)]` is the command "ai chat get" with its required argument chat-uuid. '
    "[w] writes, [!] destroys, [$] spends credits (cargo-shell asks the user to confirm those itself); "
    "`[$ if enrich=true]` applies only with that argument, `[! if sql not read-only]` unless the SQL is one "
    'read-only SELECT. {"command": "help"} returns the skill guide; {"command": "<command>", "help": true} '
    "one command's full arguments, notes and error reasons."
)


def agent_commands(registry: Registry, skill: str) -> list[CommandSpec]:
    """Commands a skill tool can run: those of the skill that go to the API."""
    return [s for s in registry.by_skill(skill) if s.http is not None]


def conditional_marks(spec: CommandSpec) -> str:
    """`` [$ if enrich=true|sync=true]``: the effects the command's arguments can raise it to."""
    by_effect: dict[str, list[str]] = {}
    for rule in spec.effect_when:
        by_effect.setdefault(rule.effect, []).append(rule.condition())
    return "".join(f"{EFFECT_MARK[e][:-1]} if {'|'.join(conds)}]" for e, conds in by_effect.items())


def _index_line(spec: CommandSpec) -> str:
    required = [a.name for a in spec.args if a.required]
    head = spec.words[-1]
    return head + (f"({', '.join(required)})" if required else "") + EFFECT_MARK[spec.effect] + conditional_marks(spec)


def _resource_entry(resource: str, lines: list[str]) -> str:
    return f"{resource}: {', '.join(lines)}" if resource else ", ".join(lines)


def command_index(specs: list[CommandSpec]) -> str:
    """``domain [resource: verb(req), verb [w]; resource: ...]``: the domain and the resource said once."""
    domains: dict[str, dict[str, list[str]]] = {}
    for spec in specs:
        if len(spec.words) == 1:  # a one-word command stands alone (`whoami`)
            domains.setdefault("", {}).setdefault("", []).append(_index_line(spec))
            continue
        resources = domains.setdefault(spec.words[0], {})
        resources.setdefault(" ".join(spec.words[1:-1]), []).append(_index_line(spec))
    return "; ".join(
        f"{domain} [{'; '.join(_resource_entry(r, lines) for r, lines in resources.items())}]"
        if domain
        else ", ".join(resources[""])
        for domain, resources in domains.items()
    )


def tool_schema(skill: Skill, specs: list[CommandSpec]) -> ToolSchema:
    description = f"{skill.description}\nCommands: {command_index(specs)}."
    return {
        "type": "function",
        "function": {
            "name": skill.name,
            "description": description,
            "parameters": {
                "type": "object",
                "properties": {
                    "command": {"type": "string", "description": "full command words"},
                    "args": {"type": "object", "description": "arguments by name"},
                    "help": {"type": "boolean", "description": "true: describe the command, do not run it"},
                },
                "required": ["command"],
            },
        },
    }


def build_tool_schemas(registry: Registry | None = None) -> list[ToolSchema]:
    registry = registry or get_registry()
    skills = load_skills()
    return [tool_schema(skills[name], agent_commands(registry, name)) for name in SKILL_NAMES]


# -- help ------------------------------------------------------------------------------------------


def _arg_help(arg: ArgSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"type": arg.type if arg.type != "list" else f"list of {arg.item_type or 'string'}"}
    if arg.required:
        out["required"] = True
    if arg.choices:
        out["values"] = list(arg.choices)
    if arg.location == "wait":
        out["help"] = "true: wait for the background job to finish (cargo-shell polls) and return its final state"
    elif arg.location == "unsent":
        out["help"] = (arg.help + "; " if arg.help else "") + "accepted but not sent (no API field)"
    elif arg.help:
        out["help"] = arg.help
    return out


def command_help(spec: CommandSpec) -> dict[str, Any]:
    out: dict[str, Any] = {
        "command": spec.name,
        "summary": spec.summary,
        "effect": spec.effect,
        "args": {a.name: _arg_help(a) for a in spec.args},
    }
    if spec.effect_when:
        out["effect_when"] = [f"{r.effect} when {r.condition()}: {r.why}" for r in spec.effect_when]
    if spec.job is not None:
        out["background_job"] = (
            f"starts a {spec.job.kind} ({spec.job.id_path}); pass wait-until-finished=true to wait, or "
            "keep going and check it later with its get command"
        )
    if spec.notes:
        out["notes"] = list(spec.notes)
    if spec.errors:
        out["error_reasons"] = list(spec.errors)
    if spec.extra:
        out["details"] = spec.extra
    return out


# -- decoding a call -------------------------------------------------------------------------------


@dataclass(frozen=True)
class HelpReply:
    """The model asked for help: answer with ``content`` without touching the API."""

    call: ToolCall
    content: str


@dataclass(frozen=True)
class InvalidCall:
    """Arguments the model can fix: ``message`` goes back to it as the tool result."""

    call: ToolCall
    message: str


@dataclass(frozen=True)
class PreparedCall:
    """A validated command, ready for the executor."""

    call: ToolCall
    spec: CommandSpec
    params: BaseModel
    args: dict[str, Any]


Decoded = HelpReply | InvalidCall | PreparedCall


def _coerce(spec: CommandSpec, args: dict[str, Any]) -> dict[str, Any]:
    """Forgive the usual model habits: JSON sent as a string, a single value for a list."""
    out: dict[str, Any] = {}
    for key, value in args.items():
        name = key.lstrip("-")
        try:
            arg = spec.arg(name)
        except KeyError:
            out[name] = value
            continue
        if arg.type == "json" and isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        elif arg.type == "list" and isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        out[name] = value
    return out


class Toolbox:
    """Knows the seven tools and turns a model's tool call into a :data:`Decoded` value."""

    def __init__(self, registry: Registry | None = None) -> None:
        self.registry = registry or get_registry()
        self.skills = load_skills()
        self._by_skill = {name: {s.name: s for s in agent_commands(self.registry, name)} for name in SKILL_NAMES}

    def schemas(self) -> list[ToolSchema]:
        return [tool_schema(self.skills[n], list(self._by_skill[n].values())) for n in SKILL_NAMES]

    def decode(self, call: ToolCall) -> Decoded:
        commands = self._by_skill.get(call.name)
        if commands is None:
            return InvalidCall(call, f"there is no tool named {call.name!r}; the tools are {', '.join(SKILL_NAMES)}")
        try:
            payload = parse_arguments(call)
        except ValueError as exc:
            return InvalidCall(call, str(exc))
        command = " ".join(str(payload.get("command", "")).replace("cargo-shell", " ").split())
        raw_args = payload.get("args") or {}
        if not isinstance(raw_args, dict):
            return InvalidCall(call, "`args` must be an object of argument names to values")
        if command in ("", "help"):
            target = raw_args.get("command")
            if isinstance(target, str) and target.strip():
                command = target.strip()
                payload["help"] = True
            else:
                return HelpReply(call, self.skills[call.name].body)
        spec = commands.get(command) or self._by_suffix(commands, command)
        if spec is None:
            return InvalidCall(call, self._unknown(call.name, command))
        if payload.get("help"):
            return HelpReply(call, json.dumps(command_help(spec), indent=1))
        args = _coerce(spec, raw_args)
        try:
            params = validate_params(spec, args)
        except UsageError as exc:
            hint = f'Call {call.name} with {{"command": "{spec.name}", "help": true}} for its arguments.'
            return InvalidCall(call, f"{exc.message}. {hint}")
        return PreparedCall(call, spec, params, args)

    @staticmethod
    def _by_suffix(commands: dict[str, CommandSpec], command: str) -> CommandSpec | None:
        """Accept a command without its first word(s) when that is unambiguous."""
        hits = [s for name, s in commands.items() if command and name.endswith(" " + command)]
        return hits[0] if len(hits) == 1 else None

    def _unknown(self, skill: str, command: str) -> str:
        if command in self.registry:
            owner = self.registry.get(command)
            if owner.http is None:
                return f"`{command}` is a local cargo-shell command the assistant cannot run"
            return f"`{command}` belongs to the {owner.skill} tool, not {skill}"
        names = list(self._by_skill[skill])
        close = difflib.get_close_matches(command, names, n=3, cutoff=0.5)
        suggestion = f" Did you mean: {', '.join(close)}?" if close else ""
        return f"`{command}` is not a command of the {skill} tool.{suggestion} See the tool description."
