"""Turn validated params into the exact HTTP request the official client would send."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from cargo_shell.errors import UsageError
from cargo_shell.registry.spec import CommandSpec

if TYPE_CHECKING:
    from pydantic import BaseModel


@dataclass
class ApiRequest:
    method: str
    path: str
    query: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    form: dict[str, str] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def has_body(self) -> bool:
        return self.json is not None and self.method != "GET"

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"method": self.method, "path": self.path}
        if self.query:
            out["query"] = self.query
        if self.has_body:
            out["body"] = self.json
        if self.form or self.files:
            out["multipart"] = {**self.form, **{k: f"@{v}" for k, v in self.files.items()}}
        return out


#: Path segments made only of these characters are the same once percent-encoded (UUIDs are).
_needs_no_quoting = re.compile(r"[A-Za-z0-9_.~-]+").fullmatch
_PART = re.compile(r"(\w+)(\[\])?")


def _set_nested(target: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``icon.color`` or ``relationships[].fromModelUuid`` (the first list item) in a body."""
    parts = dotted.split(".")
    node: Any = target
    for i, part in enumerate(parts):
        m = _PART.fullmatch(part)
        if m is None:
            raise ValueError(f"bad field path {dotted!r}")
        key, is_list = m.group(1), bool(m.group(2))
        last = i == len(parts) - 1
        if is_list:
            items = node.setdefault(key, [{}])
            if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
                raise UsageError(f"`{key}` must be a JSON array of objects to combine it with the flags that fill it")
            if not items:
                items.append({})
            node = items[0]
        elif last:
            node[key] = value
        else:
            node = node.setdefault(key, {})


def _arg_values(spec: CommandSpec, params: BaseModel) -> dict[str, Any]:
    values = params.model_dump(by_alias=False, exclude_none=True)
    return {a.name: values[a.attr] for a in spec.args if a.attr in values}


@dataclass(frozen=True)
class _Recipe:
    """How one command's arguments go on the wire, derived once per spec."""

    sent: tuple[tuple[str, str, str, bool], ...]  # (flag name, location, field, is a file)
    path_params: bool
    null_when_absent: frozenset[str] = frozenset()


_RECIPES: dict[int, tuple[CommandSpec, _Recipe]] = {}


def _recipe(spec: CommandSpec) -> _Recipe:
    hit = _RECIPES.get(id(spec))
    if hit is not None and hit[0] is spec:
        return hit[1]
    assert spec.http is not None
    recipe = _Recipe(
        sent=tuple((a.name, a.location, a.field or a.attr, a.type == "file") for a in spec.args if a.sent),
        path_params=bool(spec.http.path_params),
        null_when_absent=frozenset(a.name for a in spec.args if a.null_when_absent),
    )
    _RECIPES[id(spec)] = (spec, recipe)  # keeps the spec alive, so its id is never reused
    return recipe


def _copy_json(value: Any) -> Any:
    """A copy of the containers in a JSON value (bodies are assembled in place; values are not ours)."""
    if isinstance(value, dict):
        return {k: _copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy_json(v) for v in value]
    return value


def build_request(spec: CommandSpec, params: BaseModel, *, values: dict[str, Any] | None = None) -> ApiRequest:
    """The request for validated ``params``; ``values`` are their values by flag name if known."""
    if spec.http is None:
        raise UsageError(f"`{spec.name}` runs locally and sends no API request")
    recipe = _recipe(spec)
    if values is None:
        values = _arg_values(spec, params)
    req = ApiRequest(method=spec.http.method, path=spec.http.path)
    body: dict[str, Any] = {}
    for name, location, fld, is_file in recipe.sent:
        if name not in values:
            if name in recipe.null_when_absent:
                _set_nested(body, fld, None)  # the API wants the key; null is its documented default
            continue
        value = values[name]
        if location == "path":
            text = str(value)
            req.path = req.path.replace("{" + fld + "}", text if _needs_no_quoting(text) else quote(text, safe=""))
        elif location == "query":
            req.query[fld] = value
        elif location == "form":
            if is_file:
                req.files[fld] = Path(value).expanduser()
            else:
                req.form[fld] = str(value)
        else:
            _set_nested(body, fld, _copy_json(value))
    missing = recipe.path_params and "{" in req.path and re.findall(r"{(\w+)}", req.path)
    if missing:
        raise UsageError(f"`{spec.name}` needs a value for {', '.join(missing)}")
    if spec.http.params_in == "json" or body:
        req.json = body
    return req


def apply_client_filters(
    spec: CommandSpec, params: BaseModel, result: Any, *, values: dict[str, Any] | None = None
) -> Any:
    """Filter a list response on flags the API has no field for (e.g. ``--dataset-uuid``).

    ``values`` are the params' values by flag name when the caller already has them.
    """
    filtered = [arg for arg in spec.args if arg.client_filter is not None]
    if not filtered or not isinstance(result, dict):
        return result
    if values is None:
        values = _arg_values(spec, params)
    for arg in filtered:
        flt = arg.client_filter
        if flt is None or arg.name not in values or not isinstance(result, dict):
            continue
        items = result.get(flt.list_key)
        if isinstance(items, list):
            wanted = values[arg.name]
            result = {
                **result,
                flt.list_key: [
                    it for it in items if isinstance(it, dict) and any(it.get(k) == wanted for k in flt.keys)
                ],
            }
    return result
