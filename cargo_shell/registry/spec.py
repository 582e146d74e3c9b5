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
#: The front ends a command can be offered in.
FRONT_ENDS: tuple[str, ...] = ("cli", "shell")
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
    #: For a list argument: ``a,b`` is two items (False: each repetition of the flag is one item).
    split: bool = True
    #: The smallest value accepted (numbers).
    minimum: float | None = None
    #: What the value is, for guards and the rollout (see :data:`Holds`).
    holds: Holds | None = None
    #: A one-letter spelling of the flag (``-k``), for cargo-shell's own commands.
    short: str | None = None

    @property
    def attr(self) -> str:
        """Python identifier used in the params model."""
        return self.name.replace("-", "_")

    @property
    def flag(self) -> str:
        return self.name if self.positional else f"--{self.name}"

    @property
    def spellings(self) -> tuple[str, ...]:
        """Every way to write the flag on a command line (``--only``, ``-k``)."""
        return (self.flag, self.short) if self.short else (self.flag,)

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
    #: The skill (tool) the command belongs to; "" for cargo-shell's own commands outside the catalogue.
    skill: str
    summary: str
    effect: Effect
    args: tuple[ArgSpec, ...]
    http: HttpSpec | None = None
    #: cargo-shell's own commands: ``"module:function"`` receiving the context and the validated
    #: arguments as keywords, returning data (the front end renders it).
    handler: str | None = None
    #: Front ends that offer the command: ``cli`` (the command line) and ``shell`` (typed in the shell).
    offered_in: tuple[str, ...] = FRONT_ENDS
    #: A ``stream`` command that starts or follows jobs: SIGTERM/SIGHUP are handled like Ctrl-C while it
    #: runs, as for every ``data`` command (other ``stream`` commands handle their signals themselves).
    follows_jobs: bool = False
    #: ``data``: the handler returns data to render; ``stream``: it writes to the context's streams
    #: as it goes (a server, a conversation) and returns the exit status.
    output: Literal["data", "stream"] = "data"
    response_key: str | None = None
    job: JobSpec | None = None
    download: bool = False
    #: The download is the answer's own body (a file's bytes, registry ``"download": "body"``), not a JSON
    #: answer naming signed URLs (``"download": true``).
    download_body: bool = False
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

    @property
    def own(self) -> bool:
        """One of cargo-shell's own commands (run by its handler, not sent to the API)."""
        return self.handler is not None

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


@dataclass(frozen=True)
class GroupSpec:
    """A group of commands (``jobs``): what help says of it and the verb it runs when none is given."""

    words: tuple[str, ...]
    summary: str = ""
    #: ``jobs`` and ``jobs --limit 5`` mean ``jobs list ...``.
    default: str | None = None
