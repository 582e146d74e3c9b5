"""Per-process context: environment, resolved settings, the target and its executor."""

from __future__ import annotations

import contextlib
from typing import IO, TYPE_CHECKING, Any

from cargo_shell.config import ConfigStore, Resolved, resolve
from cargo_shell.environment import Environment

if TYPE_CHECKING:  # the registry, the executor and the HTTP stack load on first use: start-up stays fast
    from collections.abc import Callable

    from cargo_shell.executor import Confirmer, EventSink, Executor
    from cargo_shell.registry import CommandSpec, Registry
    from cargo_shell.target import Target


class Context:
    def __init__(self, env: Environment, *, transport: Any = None) -> None:
        self.env = env
        self.globals: dict[str, Any] = {}
        self.transport = transport
        self._target: Target | None = None
        #: The one-time "you are on the sandbox" stderr notice; the shell says it in its banner.
        self.announce_sandbox = True
        self._executor: Executor | None = None

    @property
    def registry(self) -> Registry:
        from cargo_shell.registry import get_registry

        return get_registry()

    @property
    def debug(self) -> bool:
        return bool(self.globals.get("debug"))

    @property
    def store(self) -> ConfigStore:
        return ConfigStore(self.env.paths)

    def apply_globals(self, opts: dict[str, Any]) -> None:
        for key, value in opts.items():
            if value not in (None, False):
                self.globals[key] = value

    def resolved(self) -> Resolved:
        return resolve(
            self.store,
            self.env.environ,
            profile=self.globals.get("profile"),
            base_url=self.globals.get("base_url"),
            token=self.globals.get("token"),
            workspace_uuid=self.globals.get("workspace_uuid"),
        )

    def target(self) -> Target:
        if self._target is None:
            from cargo_shell.target import open_target

            resolved = self.resolved()
            self._target = open_target(resolved, self.env.paths, transport=self.transport)
            if resolved.target == "sandbox" and self.announce_sandbox:
                self._sandbox_notice()
        return self._target

    def executor(self) -> Executor:
        """The process's executor (one-shot CLI: stdin confirmer on a TTY, stderr progress)."""
        if self._executor is None:
            self._executor = self.make_executor()
        return self._executor

    def make_executor(
        self,
        *,
        confirmer: Confirmer | None = None,
        events: EventSink | None = None,
        front_end: str = "cli",
        sleep: Callable[[float], None] | None = None,
    ) -> Executor:
        """An executor on this context's target with the profile's policy, job store and audit log.

        Front ends pass their own ``confirmer`` and ``events``; by default the CLI's are used:
        a y/n/e/a prompt when stdin is a terminal (else none: approval-needing actions exit 3)
        and stderr progress. ``--yes`` is honoured here and only here (``--yes=destructive`` also
        covers the destructive actions the assistant proposes). A local path the assistant
        proposes never points into cargo-shell's own folders without asking. ``sleep`` replaces
        ``time.sleep`` for every pause the executor makes (tests on a fake clock).
        """
        import time

        from cargo_shell.executor import AuditLog, Executor, JobStore, Policy, RetryConfig, RunContext
        from cargo_shell.executor.confirm import StdinConfirmer
        from cargo_shell.executor.local_paths import PathRules
        from cargo_shell.executor.progress import CliEvents

        target = self.target()
        resolved = target.resolved
        paths = self.env.paths
        if confirmer is None and front_end == "cli" and self.env.stdin_isatty:
            confirmer = StdinConfirmer(self.env.stdin, self.env.stderr, self.env.environ)
        if events is None:
            events = CliEvents(self.env.stderr, no_color=self.env.no_color)
        context = RunContext(
            profile=resolved.profile,
            workspace_uuid=target.client.workspace_uuid,
            base_url=target.client.base_url,
            front_end=front_end,
        )
        yes = self.globals.get("yes")
        policy = Policy.load(
            paths.config_dir, profile=resolved.profile, assume_yes=bool(yes), yes_destructive=yes == "destructive"
        )
        return Executor(
            target.client,
            policy=policy,
            local_paths=PathRules(protected=(paths.config_dir, paths.data_dir, paths.state_dir)),
            confirmer=confirmer,
            events=events,
            jobs=JobStore(paths.jobs_db),
            audit=AuditLog(paths.audit_log, profile=resolved.profile, workspace_uuid=target.client.workspace_uuid),
            retry=RetryConfig.from_environ(self.env.environ),
            context=context,
            sleep=sleep or time.sleep,
        )

    @property
    def strict(self) -> bool:
        return bool(self.globals.get("strict"))

    def output_format(self) -> str:
        value = self.globals.get("output") or self.resolved().settings.get("output") or "json"
        return str(value)

    def run_and_print(self, spec: CommandSpec, raw: dict[str, Any], *, output_file: str | None = None) -> int:
        from cargo_shell.render.output import write_result

        executor = self.executor()
        params = executor.validate(spec, raw)
        if spec.download:
            with contextlib.ExitStack() as stack:
                sink: IO[bytes]
                if output_file and output_file != "-":
                    sink = stack.enter_context(open(output_file, "wb"))
                else:
                    sink = self.env.binary_stdout()
                outcome = executor.run(spec, params, download_to=sink)
            if output_file and output_file != "-":
                write_result(self.env, {**outcome.data, "path": output_file})
            return outcome.exit_status(strict=self.strict)
        outcome = executor.run(spec, params)
        write_result(self.env, outcome.data, output=self.output_format(), key=spec.response_key)
        return outcome.exit_status(strict=self.strict)

    def _sandbox_notice(self) -> None:
        marker = self.env.paths.sandbox_dir / ".notice-shown"
        if marker.exists():
            return
        from cargo_shell.target import SANDBOX_NOTICE

        self.env.warn(SANDBOX_NOTICE)
        with contextlib.suppress(OSError):
            from cargo_shell.private_files import private_file

            private_file(marker)

    def close(self) -> None:
        if self._target is not None:
            self._target.close()
            self._target = None
            self._executor = None
