"""Build a pydantic params model from a :class:`CommandSpec` (lazily, one per command)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, JsonValue, create_model

if TYPE_CHECKING:
    from cargo_shell.registry.spec import ArgSpec, CommandSpec

_UUID_RE = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


def _check_date(value: str) -> str:
    text = value.strip()
    try:
        if len(text) == 10:
            dt.date.fromisoformat(text)
        else:
            dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"expected an ISO 8601 date or date-time such as 2025-01-31, got {value!r}") from None
    return text


Uuid = Annotated[str, Field(pattern=_UUID_RE, description="a UUID")]
IsoDate = Annotated[str, AfterValidator(_check_date)]


def _scalar(type_: str, values: tuple[str, ...]) -> Any:
    if type_ == "uuid":
        return Uuid
    if type_ == "int":
        return int
    if type_ == "number":
        return float
    if type_ == "bool":
        return bool
    if type_ == "date":
        return IsoDate
    if type_ == "enum" and values:
        return Literal[values]
    if type_ == "json":
        return JsonValue
    return str


def python_type(arg: ArgSpec) -> Any:
    if arg.type == "list":
        return list[_scalar(arg.item_type or "string", arg.item_values)]  # type: ignore[misc]
    if arg.type == "enum":
        return _scalar("enum", arg.values)
    if arg.type == "file":
        return str
    return _scalar(arg.type, ())


class ParamsBase(BaseModel):
    """Common config: unknown arguments are errors; flags may be given by kebab name."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


def build_params_model(spec: CommandSpec) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for arg in spec.args:
        annotation = python_type(arg)
        if arg.minimum is not None:
            annotation = Annotated[annotation, Field(ge=arg.minimum)]
        description = arg.help or None
        if arg.required:
            fields[arg.attr] = (annotation, Field(alias=arg.name, description=description))
        else:
            fields[arg.attr] = (
                annotation | None,
                Field(default=None, alias=arg.name, description=description),
            )
    model_name = "".join(w.title().replace("-", "") for w in spec.words) + "Params"
    return create_model(model_name, __base__=ParamsBase, **fields)
