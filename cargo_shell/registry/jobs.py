"""Job kinds: how background work is polled, listed and cancelled (the data is ``jobs.json``).

Every consumer reads the kinds loaded here: the poller (intervals, terminal statuses, the
response key), job tracking (the get and cancel commands), the check after an ambiguous start
(the list command), help, and the command line's ``jobs cancel``. Cancel arguments are built
in one place, :meth:`JobKind.cancel_args`, from the kind's template.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cargo_shell.errors import UsageError

_PLACEHOLDER = re.compile(r"^\{(\w+)\}$")
#: The placeholder for the job's own id; any other placeholder names a field of the job object.
JOB_ID = "id"


@dataclass(frozen=True)
class JobKind:
    kind: str
    get_command: str
    #: The argument of ``get_command`` that takes the job's id.
    get_id_arg: str
    list_command: str
    cancel_command: str | None
    #: Argument name → value template of the cancel command (see :meth:`cancel_args`).
    cancel_template: Mapping[str, Any]
    response_key: str
    interval_s: float
    terminal: frozenset[str]
    #: After this many seconds of waiting, poll at ``slow_interval_s`` instead.
    slow_after_s: float = 60.0
    slow_interval_s: float = 10.0

    @property
    def job_fields(self) -> tuple[str, ...]:
        """The fields of the job object the cancel template needs (kept in the job store)."""
        return tuple(dict.fromkeys(name for name in placeholders(self.cancel_template) if name != JOB_ID))

    def cancel_args(self, job_id: str, job: Mapping[str, Any] | None) -> dict[str, Any]:
        """The cancel command's arguments for this job: the template with the id and the job's fields.

        ``job`` holds the job object's fields (or the job store's record of them). A field the
        template needs and ``job`` lacks is a :class:`UsageError` saying which one.
        """
        if self.cancel_command is None:
            raise UsageError(f"A {self.kind} cannot be cancelled through the API")
        values = {JOB_ID: job_id, **{k: v for k, v in (job or {}).items() if k != JOB_ID}}
        missing = [name for name in placeholders(self.cancel_template) if not values.get(name)]
        if missing:
            raise UsageError(
                f"Cannot cancel {self.kind} {job_id}: its {', '.join(missing)} is not known",
                hint=f"Cancel it with `cargo-shell {self.cancel_command}` and the arguments it asks for.",
            )
        return {name: _fill(value, values) for name, value in self.cancel_template.items()}


def placeholders(template: Any) -> list[str]:
    """The ``{name}`` placeholders of a template value (strings, lists and objects of them)."""
    if isinstance(template, str):
        match = _PLACEHOLDER.match(template)
        return [match.group(1)] if match else []
    if isinstance(template, list):
        return [name for item in template for name in placeholders(item)]
    if isinstance(template, dict):
        return [name for item in template.values() for name in placeholders(item)]
    return []


def _fill(template: Any, values: Mapping[str, Any]) -> Any:
    if isinstance(template, str):
        match = _PLACEHOLDER.match(template)
        return values[match.group(1)] if match else template
    if isinstance(template, list):
        return [_fill(item, values) for item in template]
    if isinstance(template, dict):
        return {key: _fill(item, values) for key, item in template.items()}
    return template


def kinds_from_dict(raw: Mapping[str, Any]) -> dict[str, JobKind]:
    out: dict[str, JobKind] = {}
    for name, entry in raw["kinds"].items():
        cancel = entry.get("cancel") or {}
        out[name] = JobKind(
            kind=name,
            get_command=entry["get"]["command"],
            get_id_arg=entry["get"]["id_arg"],
            list_command=entry["list"],
            cancel_command=cancel.get("command"),
            cancel_template=dict(cancel.get("args") or {}),
            response_key=entry["response_key"],
            interval_s=float(entry["interval_s"]),
            terminal=frozenset(entry["terminal"]),
            slow_after_s=float(entry["slow_after_s"]),
            slow_interval_s=float(entry["slow_interval_s"]),
        )
    return out
