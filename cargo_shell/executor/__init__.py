"""The shared executor: every action from the CLI, the REPL and the agent runs through it.

Stable interface for front ends::

    from cargo_shell.executor import Executor, Outcome, Plan, Approval, Confirmer, Policy
    executor = Executor(client, policy=Policy.load(...), confirmer=my_confirmer, events=my_sink)
    plan = executor.prepare(spec, raw_args)        # validate + guards + plan (no side effects)
    outcome = executor.run(spec, raw_args)          # plan → policy/confirm → send → poll → audit

See ``core.Executor`` for the flow, ``confirm`` for the Confirmer protocol, ``policy`` for
the rules, ``events`` for progress events.
"""

from cargo_shell.executor.audit import AuditLog
from cargo_shell.executor.confirm import Approval, Confirmer, InterruptAware, InterruptChoice
from cargo_shell.executor.core import Executor, RunContext
from cargo_shell.executor.events import (
    Event,
    EventSink,
    JobCancelled,
    JobDetached,
    JobFinished,
    JobProgress,
    JobStarted,
    Notice,
    RequestSent,
    RetryScheduled,
    StageFinished,
    StageStarted,
    WaitInterrupted,
)
from cargo_shell.executor.jobstore import JobRecord, JobStore
from cargo_shell.executor.outcome import Outcome
from cargo_shell.executor.plan import Estimate, Plan, Touch
from cargo_shell.executor.policy import Policy, PolicyStore, Rule, Verdict
from cargo_shell.executor.polling import dig
from cargo_shell.executor.retry import RetryConfig, WriteOutcomeUnknown

__all__ = [
    "Approval",
    "AuditLog",
    "Confirmer",
    "Estimate",
    "Event",
    "EventSink",
    "Executor",
    "InterruptAware",
    "InterruptChoice",
    "JobCancelled",
    "JobDetached",
    "JobFinished",
    "JobProgress",
    "JobRecord",
    "JobStarted",
    "JobStore",
    "Notice",
    "Outcome",
    "Plan",
    "Policy",
    "PolicyStore",
    "RequestSent",
    "RetryConfig",
    "RetryScheduled",
    "Rule",
    "RunContext",
    "StageFinished",
    "StageStarted",
    "Touch",
    "Verdict",
    "WaitInterrupted",
    "WriteOutcomeUnknown",
    "dig",
]
