"""The declarative shape of one Cargo command.

A :class:`CommandSpec` is loaded from the JSON files in ``registry/commands/`` and is the
only description of a command: the CLI parser, help, completion, LLM tool schemas, the
request builder, the executor and the tests all read it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # pydantic loads when a params model is first needed, not at start-up
    from pydantic import BaseModel

Effect = Literal["read", "write", "destructive", "cost"]
ArgType = Literal["uuid", "string", "json", "int", "bool", "date", "list", "enum", "number", "file"]
#: Where an argument's value goes:
#: path/query/body/form — the HTTP request; wait — the --wait-until-finished switch;
#: local — used by cargo-shell itself; filter — filters the response client-side (the API has
#: no such field); unsent — documented flag with no API field (accepted, reported, not sent);
#: poll — milliseconds between polls while waiting (read by the poller).
ArgIn = Literal["path", "query", "body", "form", "wait", "local", "filter", "unsent", "poll"]
EFFECTS: tuple[Effect, ...] = ("read", "write", "destructive", "cost")
#: How much an effect asks of the person, least first: the effect of a call is the most
#: severe of its command's own effect and those of the ``effect_when`` rules it meets.
SEVERITY: dict[Effect, int] = {"read": 0, "write": 1, "cost": 2, "destructive": 3}
#: The tests an ``effect_when`` rule can make of its argument's value.
EffectTest = Literal["is", "sql"]
#: ``"sql": "not-read-only"`` — the value is SQL text that is not a single read-only query.
SQL_TESTS = ("not-read-only",)
#: What an argument's value is, for the guards and the staged rollout (``"holds"``): a filter (or
#: JSON that carries one), SQL over the workspace's tables, one input record, a list of inline
#: records, a batch's ``{kind, ...}`` data.
Holds = Literal["filter", "sql", "record", "records", "batch-data"]
HOLDS: tuple[Holds, ...] = ("filter", "sql", "record", "records", "batch-data")
#: The conversions a ``derived_fields`` entry can make.
CONVERSIONS = ("cents-to-dollars",)


@dataclass(frozen=True)
class ClientFilter:
    list_key: str
    keys: tuple[str, ...]


@dataclass(frozen=True)
class ArgSpec:
    name: str
    type: ArgType
    required: bool = False
    location: ArgIn = "body"
    field: str | None = None
    positional: bool = False
    documented: bool = True
    help: str = ""
    values: tuple[str, ...] = ()
    item_type: str | None = None
    item_values: tuple[str, ...] = ()
    default: Any = None
    client_filter: ClientFilter | None = None
    #: The API requires this field but accepts null: omitted, it is sent as null.
    null_when_absent: bool = False
    #: The resource kind a UUID (or list of UUIDs) argument names (``registry/resources.json``).
    refers_to: str | None = None
    #: For a JSON argument: (key, resource kind) of the UUID fields it may hold.
    refers_to_keys: tuple[tuple[str, str], ...] = ()
    #: The smallest value accepted (numbers).
    minimum: float | None = None
    #: What the value is, for guards and the rollout (see :data:`Holds`).
    holds: Holds | None = None

    @property
    def attr(self) -> str:
        """Python identifier used in the params model."""
        return self.name.replace("-", "_")

    @property
    def flag(self) -> str:
        return self.name if self.positional else f"--{self.name}"

    @property
    def choices(self) -> tuple[str, ...]:
        return self.values or self.item_values

    @property
    def sent(self) -> bool:
        return self.location in ("path", "query", "body", "form")


@dataclass(frozen=True)
class EffectRule:
    """The call's effect is at least ``effect`` when the argument ``arg`` passes ``test``.

    ``is``: the value equals ``value`` (a JSON value; ``true`` for a switch).
    ``sql``: the value is SQL text that is not a single read-only query (``value`` is
    ``"not-read-only"``, the only SQL test). ``why`` says what the call then does, for people.
    With ``key`` the rule tests that key of a JSON object argument (an alert scope's ``query``).
    """

    arg: str
    effect: Effect
    test: EffectTest
    value: Any
    why: str
    #: For a JSON object argument: the key whose value is tested (``scope`` → its ``query``).
    key: str | None = None

    @property
    def subject(self) -> str:
        """``sql``, ``scope.query``: what the rule tests."""
        return f"{self.arg}.{self.key}" if self.key else self.arg

    def condition(self) -> str:
        """``enrich=true``, ``sql not read-only``: the short form used in markers and help."""
        if self.test == "sql":
            return f"{self.subject} not read-only"
        return f"{self.subject}={json.dumps(self.value)}"


@dataclass(frozen=True)
class DerivedField:
    """A field added to each object of the response list ``list``: ``to`` = ``convert`` of ``from``."""

    list: str
    source: str
    target: str
    convert: str


@dataclass(frozen=True)
class RolloutSpec:
    """The call may be sent as a staged rollout, splitting its ``batch-data`` argument; not with ``not_with``."""

    not_with: tuple[str, ...] = ()


@dataclass(frozen=True)
class HttpStep:
    path: str
    key: str


@dataclass(frozen=True)
class HttpSpec:
    method: str
    path: str
    params_in: Literal["json", "query", "multipart", "none"]
    steps: tuple[HttpStep, ...] = ()

    @property
    def path_params(self) -> tuple[str, ...]:
        return tuple(re.findall(r"{(\w+)}", self.path))


@dataclass(frozen=True)
class JobSpec:
    """The command starts background work that can be polled: ``kind`` names a job kind (``jobs.json``)."""

    kind: str
    id_path: str


@dataclass(frozen=True)
class CommandSpec:
    words: tuple[str, ...]
    skill: str
    summary: str
    effect: Effect
    args: tuple[ArgSpec, ...]
    http: HttpSpec | None = None
    local: str | None = None
    response_key: str | None = None
    job: JobSpec | None = None
    download: bool = False
    admin_only: bool = False
    errors: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    #: Argument values that make a call more than its command's own ``effect`` (registry data).
    effect_when: tuple[EffectRule, ...] = ()
    #: Guards this command lists (names of the executor's guard table), beyond those its arguments select.
    guards: tuple[str, ...] = ()
    rollout: RolloutSpec | None = None
    derived_fields: tuple[DerivedField, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def name(self) -> str:
        return " ".join(self.words)

    @property
    def domain(self) -> str:
        return self.words[0]

    def arg(self, name: str) -> ArgSpec:
        for a in self.args:
            if a.name == name or a.attr == name:
                return a
        raise KeyError(name)

    def holding(self, *what: Holds) -> tuple[ArgSpec, ...]:
        """The arguments whose ``holds`` is one of ``what``, in order."""
        return tuple(a for a in self.args if a.holds in what)

    def referring_to(self, kind: str) -> ArgSpec | None:
        """The first argument that names a ``kind`` resource (its ``refers_to``)."""
        return next((a for a in self.args if a.refers_to == kind), None)

    @property
    def positionals(self) -> tuple[ArgSpec, ...]:
        return tuple(a for a in self.args if a.positional)

    @property
    def options(self) -> tuple[ArgSpec, ...]:
        return tuple(a for a in self.args if not a.positional)

    @cached_property
    def params_model(self) -> type[BaseModel]:
        from cargo_shell.registry.params import build_params_model

        return build_params_model(self)


def spec_from_dict(raw: dict[str, Any]) -> CommandSpec:
    """Turn one JSON registry entry into a :class:`CommandSpec`."""
    args = []
    for a in raw.get("args", []):
        items = a.get("items") or {}
        flt = a.get("filter")
        refers = a.get("refers_to")
        args.append(
            ArgSpec(
                name=a["name"],
                type=a["type"],
                required=bool(a.get("required", False)),
                location=a.get("in", "body"),
                field=a.get("field"),
                positional=bool(a.get("positional", False)),
                documented=bool(a.get("documented", True)),
                help=a.get("help", ""),
                values=tuple(a.get("values", ())),
                item_type=items.get("type"),
                item_values=tuple(items.get("values", ())),
                default=a.get("default"),
                client_filter=ClientFilter(flt["list"], tuple(flt["keys"])) if flt else None,
                null_when_absent=bool(a.get("null_when_absent", False)),
                refers_to=refers if isinstance(refers, str) else None,
                refers_to_keys=tuple(refers.items()) if isinstance(refers, dict) else (),
                minimum=a.get("min"),
                holds=_holds(raw["command"], a),
            )
        )
    http = None
    if "http" in raw:
        h = raw["http"]
        http = HttpSpec(
            method=h["method"],
            path=h.get("path", ""),
            params_in=h["params_in"],
            steps=tuple(HttpStep(s["path"], s["key"]) for s in h.get("steps", ())),
        )
    job = JobSpec(raw["job"]["kind"], raw["job"]["id"]) if "job" in raw else None
    known = {
        "command", "skill", "summary", "effect", "args", "http", "local", "response_key", "job",
        "download", "admin_only", "errors", "notes", "effect_when", "guards", "rollout", "derived_fields",
    }  # fmt: skip
    effect = raw["effect"]
    if effect not in EFFECTS:
        raise ValueError(f"{raw['command']}: effect must be one of {', '.join(EFFECTS)}, got {effect!r}")
    return CommandSpec(
        words=tuple(raw["command"].split()),
        skill=raw["skill"],
        summary=raw["summary"],
        effect=effect,
        args=tuple(args),
        http=http,
        local=raw.get("local"),
        response_key=raw.get("response_key"),
        job=job,
        download=bool(raw.get("download", False)),
        admin_only=bool(raw.get("admin_only", False)),
        errors=tuple(raw.get("errors", ())),
        notes=tuple(raw.get("notes", ())),
        effect_when=tuple(_effect_rule(raw["command"], effect, args, r) for r in raw.get("effect_when", ())),
        guards=tuple(raw.get("guards", ())),
        rollout=RolloutSpec(tuple(raw["rollout"].get("not_with", ()))) if "rollout" in raw else None,
        derived_fields=tuple(_derived(raw["command"], d) for d in raw.get("derived_fields", ())),
        extra={k: v for k, v in raw.items() if k not in known},
    )


def _effect_rule(command: str, base: Effect, args: list[ArgSpec], raw: Any) -> EffectRule:
    """One ``effect_when`` entry, checked: a rule that cannot match or cannot escalate is a registry bug."""

    def bad(problem: str) -> ValueError:
        return ValueError(f"{command}: effect_when {json.dumps(raw)}: {problem}")

    if not isinstance(raw, dict):
        raise bad("each rule is an object")
    unknown = set(raw) - {"arg", "key", "effect", "why", "is", "sql"}
    if unknown:
        raise bad(f"unknown keys {', '.join(sorted(unknown))}")
    arg = next((a for a in args if a.name == raw.get("arg")), None)
    if arg is None:
        raise bad("names no argument of the command")
    effect = raw.get("effect")
    if effect not in EFFECTS or SEVERITY[effect] <= SEVERITY[base]:
        raise bad(f"effect must be one of {', '.join(EFFECTS)} and more than the command's own {base!r}")
    tests = [t for t in ("is", "sql") if t in raw]
    if len(tests) != 1:
        raise bad('needs exactly one test: "is" or "sql"')
    test: EffectTest = "is" if tests == ["is"] else "sql"
    value = raw[test]
    key = raw.get("key")
    if key is not None and (not isinstance(key, str) or not key or arg.type != "json"):
        raise bad('"key" names a key of a JSON argument')
    if test == "sql" and (value not in SQL_TESTS or (arg.type != "string" and key is None)):
        raise bad(f'"sql" takes one of {", ".join(SQL_TESTS)} and a string argument (or a "key" of a JSON one)')
    if test == "is" and arg.type == "bool" and not isinstance(value, bool):
        raise bad(f'"is" on the switch --{arg.name} takes true or false')
    why = raw.get("why")
    if not isinstance(why, str) or not why.strip():
        raise bad('"why" must say what the call does then')
    return EffectRule(arg.name, effect, test, value, why, key)


def _holds(command: str, raw: dict[str, Any]) -> Holds | None:
    value = raw.get("holds")
    if value is not None and value not in HOLDS:
        raise ValueError(f"{command} --{raw['name']}: holds must be one of {', '.join(HOLDS)}, got {value!r}")
    return value


def _derived(command: str, raw: dict[str, Any]) -> DerivedField:
    if raw.get("convert") not in CONVERSIONS:
        raise ValueError(f"{command}: derived_fields convert must be one of {', '.join(CONVERSIONS)}")
    return DerivedField(raw["list"], raw["from"], raw["to"], raw["convert"])
