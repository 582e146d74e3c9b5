"""A call given no arguments does not build (or import) pydantic: the CLI's cheapest path stays cheap.

The stand-in must read exactly like the params model would: same values, same request.
"""

from __future__ import annotations

import subprocess
import sys

from cargo_shell.api.request import build_request
from cargo_shell.executor.plan import arg_values, given_values
from cargo_shell.registry import get_registry
from cargo_shell.validation import NoArguments, validate_params


def test_no_arguments_reads_like_the_params_model_for_every_command() -> None:
    checked = 0
    for spec in get_registry().api:
        if spec.http is None or any(a.required for a in spec.args):  # (api: never None; for mypy)
            continue
        light = validate_params(spec, {})
        full = spec.params_model.model_validate({})
        assert isinstance(light, NoArguments)
        assert arg_values(spec, light) == arg_values(spec, full) == {}
        assert given_values(spec, light) == given_values(spec, full)
        if not spec.http.steps:
            assert build_request(spec, light) == build_request(spec, full), spec.name
        checked += 1
    assert checked > 20


def test_arguments_still_go_through_the_params_model() -> None:
    spec = get_registry().get("storage model list")
    assert not isinstance(validate_params(spec, {"dataset-uuid": "3843249c-53a1-41ae-9fd2-7861bb274742"}), NoArguments)


def test_a_call_without_arguments_imports_no_pydantic() -> None:
    code = (
        "import sys\n"
        "from cargo_shell.commands import confirm, execute, context\n"
        "from cargo_shell.executor import Executor\n"
        "from cargo_shell.api.request import build_request\n"
        "from cargo_shell.registry import get_registry\n"
        "from cargo_shell.validation import validate_params\n"
        "spec = get_registry().get('storage model list')\n"
        "build_request(spec, validate_params(spec, {}))\n"
        "print('pydantic' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out.stderr
