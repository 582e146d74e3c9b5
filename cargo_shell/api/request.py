"""Turn validated params into the exact HTTP request the official client would send."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel

from cargo_shell.errors import UsageError
from cargo_shell.registry.spec import CommandSpec


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


def build_request(spec: CommandSpec, params: BaseModel) -> ApiRequest:
    if spec.http is None:
        raise UsageError(f"`{spec.name}` runs locally and sends no API request")
    values = _arg_values(spec, params)
    req = ApiRequest(method=spec.http.method, path=spec.http.path)
    body: dict[str, Any] = {}
    for arg in spec.args:
        if arg.name not in values or not arg.sent:
            continue
        value = values[arg.name]
        fld = arg.field or arg.attr
        if arg.location == "path":
            req.path = req.path.replace("{" + fld + "}", quote(str(value), safe=""))
        elif arg.location == "query":
            req.query[fld] = value
        elif arg.location == "form":
            if arg.type == "file":
                req.files[fld] = Path(value).expanduser()
            else:
                req.form[fld] = str(value)
        else:
            _set_nested(body, fld, value)
    missing = spec.http.path_params and re.findall(r"{(\w+)}", req.path)
    if missing:
        raise UsageError(f"`{spec.name}` needs a value for {', '.join(missing)}")
    if spec.http.params_in == "json" or body:
        req.json = body
    return req


def apply_client_filters(spec: CommandSpec, params: BaseModel, result: Any) -> Any:
    """Filter a list response on flags the API has no field for (e.g. ``--dataset-uuid``)."""
    values = _arg_values(spec, params)
    for arg in spec.args:
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
