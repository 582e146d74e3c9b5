"""Where the registry (and the shared catalogue) disagree with the official client's facts.

Each finding is a :class:`Finding` with a stable ``key`` (``"<command>: <kind> <subject>"``), so a
test can hold the list of known, decided deviations and fail on any new one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from cargo_shell.registry import get_registry
from cargo_shell.registry.spec import ArgSpec, CommandSpec
from tests.client_facts.facts import Facts, Operation, Param, Schema

#: The registry's ``params_in`` against the client's ``sends``.
_SENDS = {"json": "json", "query": "query", "multipart": "multipart", "none": "none"}
_CATALOGUE_SENDS = {"body": "json", "query": "query", "multipart": "multipart", "none": "none"}
#: Registry argument types → the JSON kinds they produce.
_ARG_KINDS = {
    "uuid": {"string"},
    "string": {"string"},
    "date": {"string"},
    "enum": {"string"},
    "int": {"number"},
    "number": {"number"},
    "bool": {"boolean"},
    "list": {"array"},
    "file": {"binary"},
}


@dataclass(frozen=True)
class Finding:
    command: str
    kind: str
    subject: str
    detail: str

    @property
    def key(self) -> str:
        return f"{self.command}: {self.kind} {self.subject}".rstrip()

    def __str__(self) -> str:
        return f"{self.key} — {self.detail}"


# -- schema helpers ---------------------------------------------------------------------------
def kinds(facts: Facts, schema: Schema) -> set[str]:
    """The JSON kinds a schema admits (``any`` for an unconstrained one); null not included."""
    schema = facts.resolve(schema)
    if "anyOf" in schema:
        out: set[str] = set()
        for s in schema["anyOf"]:
            out |= kinds(facts, s)
        return out
    if "enum" in schema or "const" in schema:
        values = schema.get("enum", [schema.get("const")])
        return {_kind_of_value(v) for v in values}
    if schema.get("format") == "binary":
        return {"binary"}
    if "type" in schema:
        return {schema["type"]}
    return {"any"}


def _kind_of_value(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return "string"


def enum_values(facts: Facts, schema: Schema) -> set[Any] | None:
    """The declared values when the schema is only literals, else None."""
    schema = facts.resolve(schema)
    if "enum" in schema:
        return set(schema["enum"])
    if "const" in schema:
        return {schema["const"]}
    if "anyOf" in schema:
        out: set[Any] = set()
        for s in schema["anyOf"]:
            values = enum_values(facts, s)
            if values is None:
                return None
            out |= values
        return out
    return None


def nullable(facts: Facts, schema: Schema) -> bool:
    return bool(schema.get("nullable")) or bool(facts.resolve(schema).get("nullable"))


def child(facts: Facts, schema: Schema, name: str) -> tuple[Schema, bool] | None:
    """The schema of property ``name`` of an object schema (in any union branch), and if required."""
    schema = facts.resolve(schema)
    branches = schema.get("anyOf", [schema])
    found: tuple[Schema, bool] | None = None
    for b in branches:
        b = facts.resolve(b)
        if b.get("type") == "array" and "items" in b:
            b = facts.resolve(b["items"])
        props = b.get("properties") or {}
        if name in props:
            required = name in b.get("required", [])
            found = (props[name], required) if found is None else (found[0], found[1] and required)
    return found


# -- the registry against the client ----------------------------------------------------------
def _steps(spec: CommandSpec) -> list[tuple[str, str]]:
    assert spec.http is not None
    if spec.http.steps:
        return [(spec.http.method, step.path) for step in spec.http.steps]
    return [(spec.http.method, spec.http.path)]


def operations_of(facts: Facts, spec: CommandSpec) -> list[Operation | None]:
    """The client operation(s) behind a registry command (None where a route has no operation)."""
    if spec.http is None:
        return []
    return [facts.by_route(method, path) for method, path in _steps(spec)]


def _top(field: str) -> str:
    return re.split(r"[.\[]", field, maxsplit=1)[0]


def _nested_parts(field: str) -> list[str]:
    return [p.removesuffix("[]") for p in field.split(".")]


def _compare_value(
    facts: Facts, spec: CommandSpec, arg: ArgSpec, schema: Schema, where: str, out: list[Finding]
) -> None:
    """Type and enum of one registry argument against the client's schema for its field."""
    name = spec.name
    have = kinds(facts, schema)
    if arg.type == "json":
        if have and have <= {"string", "number", "boolean"}:
            out.append(Finding(name, "type", where, f"registry takes JSON; client declares {sorted(have)}"))
        return
    want = _ARG_KINDS[arg.type]
    if "any" not in have and not (want & have):
        out.append(Finding(name, "type", where, f"registry {arg.type}; client declares {sorted(have)}"))
        return
    declared = enum_values(facts, schema)
    if arg.type == "list":
        items = facts.resolve(schema).get("items")
        if items is None:
            return
        item_kinds = kinds(facts, items)
        item_want = _ARG_KINDS.get(arg.item_type or "string", {"string"})
        if arg.item_type == "json":
            return
        if "any" not in item_kinds and not (item_want & item_kinds):
            detail = f"registry items {arg.item_type}; client {sorted(item_kinds)}"
            out.append(Finding(name, "type", where + "[]", detail))
            return
        declared = enum_values(facts, items)
        mine = set(arg.item_values)
        label = where + "[]"
    else:
        mine = set(arg.values)
        label = where
    if declared is not None and mine != declared:
        if not mine:
            detail = f"registry accepts any value; client declares {sorted(declared, key=str)}"
        else:
            extra = sorted(mine - declared, key=str)
            missing = sorted(declared - mine, key=str)
            detail = f"registry extra {extra}, missing {missing}"
        out.append(Finding(name, "enum", label, detail))
    elif declared is None and mine:
        out.append(Finding(name, "enum", label, f"registry restricts to {sorted(mine)}; client declares no values"))


def compare_command(facts: Facts, spec: CommandSpec) -> list[Finding]:
    out: list[Finding] = []
    if spec.http is None:
        return out
    ops = operations_of(facts, spec)
    for (method, path), op in zip(_steps(spec), ops, strict=True):
        if op is None:
            out.append(Finding(spec.name, "route", f"{method} {path}", "no client operation has this method and path"))
    if len(ops) != 1 or ops[0] is None:
        return out  # multi-step commands (whoami) send no params
    op = ops[0]
    if op.path != spec.http.path:
        out.append(Finding(spec.name, "path-names", "", f"registry {spec.http.path}; client {op.path}"))
    if _SENDS[spec.http.params_in] != op.sends:
        out.append(Finding(spec.name, "sends", "", f"registry {spec.http.params_in}; client {op.sends}"))

    sent = [a for a in spec.args if a.sent]
    by_top: dict[tuple[str, str], list[ArgSpec]] = {}
    for a in sent:
        location = "path" if a.location == "path" else a.location
        by_top.setdefault((location, _top(a.field or a.attr)), []).append(a)
    client: dict[tuple[str, str], Param] = {(p.location, p.name): p for p in op.params}

    for (location, top), args in sorted(by_top.items()):
        param = client.get((location, top))
        if param is None:
            elsewhere = [p.location for p in op.params if p.name == top]
            if elsewhere:
                detail = f"registry sends it in {location}; client in {elsewhere}"
                out.append(Finding(spec.name, "location", top, detail))
            else:
                detail = f"registry sends a {location} field the client does not have"
                out.append(Finding(spec.name, "extra", top, detail))
            continue
        # required-ness of the top-level field: some registry argument filling it is required
        reg_required = any(a.required for a in args)
        sends_null = any(a.null_when_absent for a in args)
        if param.required and not reg_required and not (sends_null and nullable(facts, param.schema)):
            out.append(Finding(spec.name, "required", top, "client requires it; registry makes it optional"))
        if not param.required and reg_required and location != "path":
            out.append(Finding(spec.name, "optional", top, "client makes it optional; registry requires it"))
        for a in args:
            field = a.field or a.attr
            if _top(field) == field:
                _compare_value(facts, spec, a, param.schema, top, out)
                continue
            schema: Schema | None = param.schema
            parts = _nested_parts(field)[1:]
            for part in parts:
                assert schema is not None
                found = child(facts, schema, part)
                if found is None:
                    out.append(Finding(spec.name, "extra", field, "no such nested field in the client's type"))
                    schema = None
                    break
                schema = found[0]
            if schema is not None:
                _compare_value(facts, spec, a, schema, field, out)

    for location, top in sorted(client):
        if (location, top) not in by_top and not any(k[1] == top for k in by_top):
            out.append(Finding(spec.name, "missing", top, f"client {location} field with no registry argument"))
    return out


def compare_registry(facts: Facts) -> list[Finding]:
    out: list[Finding] = []
    for spec in sorted(get_registry(), key=lambda s: s.name):
        out.extend(compare_command(facts, spec))
    return out


def command_operations(facts: Facts) -> dict[str, list[str]]:
    """Registry command → the ids of the client operations it calls."""
    return {
        spec.name: [op.id for op in operations_of(facts, spec) if op is not None]
        for spec in sorted(get_registry(), key=lambda s: s.name)
        if spec.http is not None
    }


# -- the catalogue against the client ---------------------------------------------------------
_SIMPLE = {
    "uuid": "string",
    "string": "string",
    "date-time string": "string",
    "date string": "string",
    "date-time": "string",
    "int": "number",
    "number": "number",
    "bool": "boolean",
}


def compare_catalogue(facts: Facts, catalogue: dict[str, Any]) -> list[Finding]:
    """The catalogue's ``http`` entries against the client (route, sends, field names, required)."""
    out: list[Finding] = []
    for name, entry in sorted(catalogue.items()):
        http = entry.get("http")
        if not isinstance(http, dict) or "path" not in http:
            continue
        op = facts.by_route(http["method"], http["path"])
        if op is None:
            out.append(Finding(name, "route", f"{http['method']} {http['path']}", "catalogue route not in the client"))
            continue
        if op.path != http["path"]:
            out.append(Finding(name, "path-names", "", f"catalogue {http['path']}; client {op.path}"))
        if _CATALOGUE_SENDS.get(http.get("params_in", "none")) != op.sends:
            out.append(Finding(name, "sends", "", f"catalogue {http.get('params_in')}; client {op.sends}"))
        fields = {f["name"]: f for f in http.get("fields") or []}
        params = {p.name: p for p in op.params if p.location != "path"}
        path_names = {p.name for p in op.params if p.location == "path"}
        for fname, f in sorted(fields.items()):
            if fname in path_names:
                continue
            options = [n.rstrip("*") for n in fname.split("|")]
            if len(options) > 1 or fname.endswith("*"):
                if not all(any(p.startswith(o) for p in params) for o in options):
                    out.append(Finding(name, "extra", fname, "catalogue field (alternatives) not all in the client"))
                continue
            param = params.get(fname)
            if param is None:
                out.append(Finding(name, "extra", fname, "catalogue field the client does not send"))
                continue
            if bool(f.get("required")) != param.required:
                want = "required" if param.required else "optional"
                out.append(Finding(name, "required", fname, f"catalogue says {f.get('required')}; client: {want}"))
            ctype = str(f.get("type", ""))
            base = ctype.removesuffix("|null")
            if base in _SIMPLE and "any" not in kinds(facts, param.schema):
                have = kinds(facts, param.schema)
                if _SIMPLE[base] not in have:
                    out.append(Finding(name, "type", fname, f"catalogue {ctype}; client {sorted(have)}"))
            if ctype.endswith("|null") != nullable(facts, param.schema) and base in _SIMPLE:
                detail = f"catalogue {ctype}; client nullable={nullable(facts, param.schema)}"
                out.append(Finding(name, "nullable", fname, detail))
            m = re.fullmatch(r"enum (\w+(?:\|\w+)+)", ctype)  # `enum a|b|c`, not a named enum
            declared = enum_values(facts, param.schema)
            if m and declared is not None and set(m.group(1).split("|")) != declared:
                out.append(Finding(name, "enum", fname, f"catalogue {m.group(1)}; client {sorted(declared)}"))
        for pname in sorted(params):
            covered = any(pname == f or any(pname.startswith(o.rstrip("*")) for o in f.split("|")) for f in fields)
            if not covered:
                out.append(Finding(name, "missing", pname, "client field the catalogue does not list"))
    return out
