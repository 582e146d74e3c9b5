"""Run an :class:`~cargo_shell.commands.resolve.Invocation` and give back a :class:`Result`.

An API command goes through the executor (plan, policy, confirmation, send, poll, audit); one
of cargo-shell's own commands through its handler, named in the registry, which receives the
context and its validated arguments (defaults filled in) as keywords and returns data. Nothing
here prints: the front end renders the result.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any

from cargo_shell.commands.result import Result

if TYPE_CHECKING:
    from cargo_shell.commands.context import Context
    from cargo_shell.commands.resolve import Invocation
    from cargo_shell.executor import Executor
    from cargo_shell.registry import CommandSpec


def execute(
    ctx: Context,
    inv: Invocation,
    *,
    executor: Executor | None = None,
    wait: bool | None = None,
    download_to: IO[bytes] | None = None,
    assume_yes: bool = False,
) -> Result:
    """``executor`` defaults to the context's; ``wait`` overrides ``--wait-until-finished``;
    ``download_to`` receives a download's bytes; ``assume_yes``: a ``--yes`` for this call only."""
    spec = inv.spec
    if spec.own:
        return run_handler(ctx, spec, inv.raw)
    executor = executor or ctx.executor()
    params = executor.validate(spec, inv.raw)
    outcome = executor.run(spec, params, wait=wait, download_to=download_to, assume_yes=assume_yes)
    return Result(outcome.data, spec.response_key, outcome.exit_status(strict=ctx.strict), outcome)


def handler_of(spec: CommandSpec) -> Callable[..., Any]:
    """The function a registry entry names (``"module:function"``)."""
    module, _, name = (spec.handler or "").partition(":")
    function: Callable[..., Any] = getattr(importlib.import_module(module), name)
    return function


def handler_arguments(spec: CommandSpec, raw: dict[str, Any]) -> dict[str, Any]:
    """The validated arguments of an own command, by Python name, defaults filled in."""
    from cargo_shell.validation import validate_params

    given = dict(raw)
    for arg in spec.args:
        if arg.default is not None and given.get(arg.name) is None:
            given[arg.name] = arg.default
    params = validate_params(spec, given)
    return {arg.attr: getattr(params, arg.attr) for arg in spec.args}


def run_handler(ctx: Context, spec: CommandSpec, raw: dict[str, Any]) -> Result:
    returned = handler_of(spec)(ctx, **handler_arguments(spec, raw))
    if spec.output == "stream":
        return Result(status=int(returned), streamed=True)
    if isinstance(returned, Result):
        if returned.key is None and returned.outcome is None:
            returned.key = spec.response_key
        return returned
    return Result(returned, spec.response_key)
