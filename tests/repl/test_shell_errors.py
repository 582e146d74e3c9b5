"""An unexpected error in the shell: one line on screen naming the crash log, the traceback in the
state folder with secrets masked, and the shell goes on."""

from __future__ import annotations

from typing import Any

from cargo_shell.secrets import MASK, KnownSecrets
from tests.agent.fakes import ScriptedModel, say
from tests.repl.conftest import RunRepl, World

CANARY = "canary-shell-apitoken-7q2"


def test_a_bug_is_logged_with_its_traceback_masked_and_the_shell_goes_on(
    run_repl: RunRepl, world: World, known_secrets: KnownSecrets
) -> None:
    known_secrets.add(CANARY)

    def adapter_bug(_messages: list[Any]) -> list[Any]:
        raise RuntimeError(f"the adapter broke on header Bearer {CANARY}")

    model = ScriptedModel([adapter_bug, say("still here")])
    driven = run_repl("what models do I have\rand now?\rwhoami\r", model=model)
    log = world.ctx.env.paths.state_dir / "cargo-shell.log"
    text = log.read_text(encoding="utf-8")
    assert "Traceback" in text and "RuntimeError" in text and "adapter_bug" in text
    assert CANARY not in text and MASK in text
    [line] = [line for line in driven.text.splitlines() if line.startswith("✗")]
    assert "RuntimeError" in line and CANARY not in driven.text
    assert str(log) in driven.text  # where the traceback is
    assert "still here" in driven.text  # the next turn is answered
    assert driven.repl.transcript.commands == [["whoami"]]
    model.assert_done()
