"""The session context: environment, global options, resolved settings, the target — and the only
place an :class:`~cargo_shell.executor.Executor` is made.

Every executor gets the profile's policy (deny rules), the job store, the audit log, the retry
settings and the protected local paths, whoever asks for it: the command line, the shell, the
assistant, ``login`` checking a token, onboarding, the shell's background refresher. A front end
says once how it asks and shows (:meth:`Context.use_front_end`); :meth:`Context.executor` is then
the session's executor with those hooks.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cargo_shell.config import ConfigStore, Resolved, resolve
from cargo_shell.environment import Environment

if TYPE_CHECKING:  # the registry, the executor and the HTTP stack load on first use: start-up stays fast
    from collections.abc import Callable

    from cargo_shell.executor import Confirmer, EventSink, Executor
    from cargo_shell.registry import Registry
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
        #: The front end's hooks for :meth:`executor` (see :meth:`use_front_end`).
        self.front_end = "cli"
        self._confirmer: Callable[[], Confirmer | None] = lambda: None
        self._events: EventSink | None = None
        self._sleep: Callable[[float], None] | None = None

    def use_front_end(
        self,
        name: str,
        *,
        confirmer: Callable[[], Confirmer | None] | None = None,
        events: EventSink | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        """How :meth:`executor` asks (``confirmer`` makes the confirmer; None: nobody is asked) and
        shows progress (``events``); ``sleep`` is the polling pause (tests pass a fake clock's)."""
        self.front_end = name
        self._confirmer = confirmer or (lambda: None)
        self._events = events
        self._sleep = sleep
        self._executor = None

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

    def open_target(self, resolved: Resolved | None = None) -> Target:
        """A connection of its own, closed by the caller: to ``resolved`` (settings being tried, such as
        a token before it is stored) or to this context's settings (for another thread)."""
        from cargo_shell.target import open_target

        return open_target(resolved or self.resolved(), self.env.paths, transport=self.transport)

    def executor(self) -> Executor:
        """The session's executor, with the front end's confirmer and event sink."""
        if self._executor is None:
            self._executor = self.make_executor(
                confirmer=self._confirmer(), events=self._events, front_end=self.front_end, sleep=self._sleep
            )
        return self._executor

    @property
    def executor_made(self) -> bool:
        return self._executor is not None

    def make_executor(
        self,
        *,
        confirmer: Confirmer | None = None,
        events: EventSink | None = None,
        front_end: str = "cli",
        assume_yes: bool = False,
        sleep: Callable[[float], None] | None = None,
        target: Target | None = None,
        audited: bool = True,
        clock: Callable[[], float] | None = None,
    ) -> Executor:
        """An executor with the profile's policy, job store and audit log.

        On this context's target, or on ``target`` (a token being checked before it is stored, the
        refresher's own connection); the policy is then that target's profile's. With no
        ``confirmer`` actions that need approval are refused (exit 3); ``events`` defaults to
        none. ``--yes`` (the context's, or ``assume_yes``) is honoured here and only here
        (``--yes=destructive`` also covers the destructive actions the assistant proposes). A
        local path the assistant proposes never points into cargo-shell's own folders without asking.
        ``audited=False`` is for background reads no person asked for (the shell's completion data).
        ``sleep`` replaces ``time.sleep`` for every pause the executor makes and ``clock`` the clocks
        of the executor, job store and audit log (tests and the benchmark on a simulated clock).
        """
        import time

        from cargo_shell.executor import AuditLog, Executor, JobStore, Policy, RetryConfig, RunContext
        from cargo_shell.executor.local_paths import PathRules

        target = target or self.target()
        resolved = target.resolved
        paths = self.env.paths
        context = RunContext(
            profile=resolved.profile,
            workspace_uuid=target.client.workspace_uuid,
            base_url=target.client.base_url,
            front_end=front_end,
        )
        yes = self.globals.get("yes")
        policy = Policy.load(
            paths.config_dir,
            profile=resolved.profile,
            assume_yes=bool(yes) or assume_yes,
            yes_destructive=yes == "destructive",
        )
        return Executor(
            target.client,
            policy=policy,
            local_paths=PathRules(protected=(paths.config_dir, paths.data_dir, paths.state_dir)),
            confirmer=confirmer,
            events=events,
            jobs=JobStore(paths.jobs_db, clock=clock or time.time),
            audit=AuditLog(
                paths.audit_log,
                profile=resolved.profile,
                workspace_uuid=target.client.workspace_uuid,
                clock=clock or time.time,
            )
            if audited
            else None,
            retry=RetryConfig.from_environ(self.env.environ),
            context=context,
            sleep=sleep or time.sleep,
            clock=clock or time.monotonic,
        )

    @property
    def strict(self) -> bool:
        return bool(self.globals.get("strict"))

    def output_format(self) -> str:
        value = self.globals.get("output") or self.resolved().settings.get("output") or "json"
        return str(value)

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
