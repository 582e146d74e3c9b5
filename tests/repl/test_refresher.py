"""The shell's background refresher reads through an executor of the session context."""

from __future__ import annotations

from cargo_shell.executor.policy import PolicyStore
from cargo_shell.repl.resources import Refresher, Snapshot
from tests.repl.conftest import World


def test_the_refresher_obeys_deny_rules_and_writes_no_audit_line(world: World) -> None:
    PolicyStore(world.ctx.env.paths.config_dir).add("deny", command="billing *")
    got: list[Snapshot] = []
    refresher = Refresher(world.ctx, got.append)
    refresher.refresh()
    refresher.join(120)
    [snapshot] = got
    assert {r.name for r in snapshot.resources["model"]} == {"Companies", "Contacts"}
    assert snapshot.credits is None  # `billing subscription get` is denied to it like to anyone
    assert not world.ctx.env.paths.audit_log.exists()
