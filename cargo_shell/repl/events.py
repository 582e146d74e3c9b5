"""The shell's executor event sink: job bars above the prompt, notices as dim lines, and the
toolbar's count of running jobs. One method per kind of event (see :class:`JobEvents`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cargo_shell.render.job_progress import JobEvents

if TYPE_CHECKING:
    from cargo_shell.executor import events as ev
    from cargo_shell.repl.app import Repl


class ShellEvents(JobEvents):
    def __init__(self, shell: Repl) -> None:
        super().__init__(shell.console, shell.progress)
        self.shell = shell

    def __call__(self, event: ev.Event) -> None:
        self.shell.stop_waiting()  # the job's progress or the notice takes the screen
        super().__call__(event)
        if self.shell.event_hook is not None:
            self.shell.event_hook(event)

    def job_started(self, event: ev.JobStarted) -> None:
        """Counted at once; the bar appears with the first poll (the job's start is in its label)."""
        self.shell.state.running_jobs += 1
        self.progress.started(event.kind, event.job_id, event.total)

    def job_progress(self, event: ev.JobProgress) -> None:
        super().job_progress(event)
        self.shell.state.running_jobs = max(self.shell.state.running_jobs, 1)

    def job_finished(self, event: ev.JobFinished) -> None:
        super().job_finished(event)
        self.shell.state.running_jobs = max(self.shell.state.running_jobs - 1, 0)
