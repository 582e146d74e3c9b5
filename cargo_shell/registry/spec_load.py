"""Reading the registry's JSON into specs: every key checked, every rule validated at load time.

A registry entry that cannot work (an ``effect_when`` rule that names no argument, a ``short``
spelling that is not one letter) fails here, when the registry loads, not when a user runs it.
"""

from __future__ import annotations

import json
from typing import Any

from cargo_shell.registry.spec import (
    CONVERSIONS,
    EFFECTS,
    FRONT_ENDS,
    HOLDS,
    SEVERITY,
    SQL_TESTS,
    ArgSpec,
    ClientFilter,
    CommandSpec,
    DerivedField,
    Effect,
    EffectRule,
    EffectTest,
    GroupSpec,
    Holds,
    HttpSpec,
    HttpStep,
    JobSpec,
    RolloutSpec,
)


def group_from_dict(raw: dict[str, Any]) -> GroupSpec:
    return GroupSpec(tuple(raw["group"].split()), raw.get("summary", ""), raw.get("default"))


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
                split=bool(items.get("split", True)),
                minimum=a.get("min"),
                holds=_holds(raw["command"], a),
                short=_short(raw["command"], a),
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
        "command", "skill", "summary", "effect", "args", "http", "handler", "offered_in", "follows_jobs", "output",
        "response_key", "job", "download", "admin_only", "errors", "notes", "effect_when", "guards", "rollout",
        "derived_fields",
    }  # fmt: skip
    download = raw.get("download", False)
    if download not in (False, True, "body"):
        raise ValueError(f'{raw["command"]}: download must be true (signed URLs) or "body", got {download!r}')
    effect = raw["effect"]
    if effect not in EFFECTS:
        raise ValueError(f"{raw['command']}: effect must be one of {', '.join(EFFECTS)}, got {effect!r}")
    return CommandSpec(
        words=tuple(raw["command"].split()),
        skill=raw.get("skill", ""),
        summary=raw["summary"],
        effect=effect,
        args=tuple(args),
        http=http,
        handler=raw.get("handler"),
        offered_in=_offered_in(raw),
        follows_jobs=bool(raw.get("follows_jobs", False)),
        output="stream" if raw.get("output") == "stream" else "data",
        response_key=raw.get("response_key"),
        job=job,
        download=bool(download),
        download_body=download == "body",
        admin_only=bool(raw.get("admin_only", False)),
        errors=tuple(raw.get("errors", ())),
        notes=tuple(raw.get("notes", ())),
        effect_when=tuple(_effect_rule(raw["command"], effect, args, r) for r in raw.get("effect_when", ())),
        guards=tuple(raw.get("guards", ())),
        rollout=RolloutSpec(tuple(raw["rollout"].get("not_with", ()))) if "rollout" in raw else None,
        derived_fields=tuple(_derived(raw["command"], d) for d in raw.get("derived_fields", ())),
        extra={k: v for k, v in raw.items() if k not in known},
    )


def _offered_in(raw: dict[str, Any]) -> tuple[str, ...]:
    offered = tuple(raw.get("offered_in", FRONT_ENDS))
    unknown = set(offered) - set(FRONT_ENDS)
    if unknown or not offered:
        raise ValueError(f"{raw['command']}: offered_in takes some of {', '.join(FRONT_ENDS)}, got {list(offered)}")
    return offered


def _short(command: str, raw: dict[str, Any]) -> str | None:
    short = raw.get("short")
    if short is None:
        return None
    if not (isinstance(short, str) and len(short) == 2 and short[0] == "-" and short[1].isalpha()):
        raise ValueError(f"{command}: --{raw['name']}: short takes one dash and one letter, got {short!r}")
    return short


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
