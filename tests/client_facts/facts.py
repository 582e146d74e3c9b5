"""The committed facts about the official client, loaded for the tests.

``derive.py`` writes them; this module reads them, finds the operation a request goes to, and
resolves ``$ref`` shapes. Nothing here needs the network or node.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
#: The client version the registry and the sandbox are held to.
CLIENT_VERSION = "1.0.57"

Schema = dict[str, Any]


@dataclass(frozen=True)
class Param:
    name: str
    location: str  # path | query | body | form
    required: bool
    schema: Schema
    client_name: str | None = None


@dataclass(frozen=True)
class Operation:
    id: str
    domain: str
    method: str
    path: str
    sends: str  # json | query | multipart | none
    response: str  # json | blob | upload
    params: tuple[Param, ...]
    result: Schema | None
    errors: tuple[str, ...]
    required_one_of: tuple[tuple[str, ...], ...] = ()

    def param(self, name: str, location: str | None = None) -> Param | None:
        for p in self.params:
            if p.name == name and (location is None or p.location == location):
                return p
        return None

    @property
    def template(self) -> str:
        """The path with every parameter written ``{}``: the route, whatever the names."""
        return re.sub(r"{\w+}", "{}", self.path)


def _segments_match(template: str, path: str) -> int | None:
    """How many literal segments of ``template`` match ``path`` (None: no match)."""
    want = template.strip("/").split("/")
    got = path.strip("/").split("/")
    if len(want) != len(got):
        return None
    literal = 0
    for w, g in zip(want, got, strict=True):
        if w.startswith("{") and w.endswith("}"):
            if not g:
                return None
            continue
        if w != g:
            return None
        literal += 1
    return literal


class Facts:
    def __init__(self, raw: dict[str, Any]) -> None:
        self.version: str = raw["client"]["version"]
        self.definitions: dict[str, Schema] = raw["definitions"]
        self.operations: dict[str, Operation] = {}
        for op in raw["operations"]:
            params = tuple(
                Param(p["name"], p["in"], p["required"], p["schema"], p.get("clientName")) for p in op["params"]
            )
            self.operations[op["id"]] = Operation(
                id=op["id"],
                domain=op["domain"],
                method=op["method"],
                path=op["path"],
                sends=op["sends"],
                response=op["response"],
                params=params,
                result=op["result"],
                errors=tuple(op["errors"]),
                required_one_of=tuple(tuple(names) for names in op.get("requiredOneOf", ())),
            )

    def __iter__(self) -> Any:
        return iter(self.operations.values())

    def by_route(self, method: str, template: str) -> Operation | None:
        """The operation for a route written with ``{name}`` parameters (names do not matter)."""
        wanted = re.sub(r"{\w+}", "{}", template)
        for op in self.operations.values():
            if op.method == method and op.template == wanted:
                return op
        return None

    def for_request(self, method: str, path: str) -> Operation | None:
        """The operation a concrete request goes to; literal segments win over parameters."""
        best: tuple[int, Operation] | None = None
        for op in self.operations.values():
            if op.method != method:
                continue
            score = _segments_match(op.path, path)
            if score is not None and (best is None or score > best[0]):
                best = (score, op)
        return best[1] if best else None

    def resolve(self, schema: Schema) -> Schema:
        """Follow ``$ref`` (keeping ``nullable`` from the referring schema)."""
        seen = 0
        while "$ref" in schema:
            target = self.definitions[schema["$ref"]]
            schema = {**target, "nullable": True} if schema.get("nullable") else target
            seen += 1
            if seen > 50:
                raise ValueError("reference cycle")
        return schema


@cache
def load_facts(version: str = CLIENT_VERSION) -> Facts:
    return Facts(json.loads((HERE / f"api-{version}.json").read_text(encoding="utf-8")))
