"""One MCP tool call through the agent's tools and the one executor (synchronous; a worker thread).

The call is decoded by the agent's :class:`Toolbox` (same seven tools, same ``help``, same
argument checks) and run by :class:`ExecutorRunner` as a proposal of the model, so the policy
judges it as it judges the shell's agent. The answer is the agent's payload, masked and trimmed
the same way; refusals add what the person needs to act on them (the plan and the ways forward),
since an MCP client shows tool results to the person as well as to the model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cargo_shell.agent.model import ToolCall
from cargo_shell.agent.results import DECLINED, MODEL_ERRORS, error_result, model_text
from cargo_shell.agent.results import success as outcome_payload
from cargo_shell.agent.runner import ExecutorRunner
from cargo_shell.agent.tools import HelpReply, InvalidCall, Toolbox
from cargo_shell.agent.trimming import DEFAULT_BUDGET
from cargo_shell.errors import ApprovalRequired, CargoShellError, Declined
from cargo_shell.executor import Executor, Outcome
from cargo_shell.executor.events import EventSink
from cargo_shell.executor.jobs import wait_command
from cargo_shell.mcp.confirm import McpConfirmer
from cargo_shell.secrets import Masker, remember


@dataclass(frozen=True)
class Reply:
    """What a tool call answers: the text the client gets, and whether it is an error."""

    text: str
    is_error: bool
    status: str


class ToolBridge:
    def __init__(self, executor: Executor, *, toolbox: Toolbox | None = None, result_budget: int = DEFAULT_BUDGET):
        self.executor = executor
        self.runner = ExecutorRunner(executor)
        self.toolbox = toolbox or Toolbox()
        remember(*self.runner.known_secrets)  # the Cargo token in use is masked by value everywhere
        self.masker = Masker()
        self.result_budget = result_budget

    def tool_list(self) -> list[dict[str, Any]]:
        """The seven tools as MCP describes them: the agent's function schemas, unchanged."""
        out = []
        for schema in self.toolbox.schemas():
            function = schema["function"]
            tool = {"name": function["name"], "description": function["description"]}
            out.append({**tool, "inputSchema": function["parameters"]})
        return out

    def call(self, name: str, arguments: dict[str, Any], confirmer: McpConfirmer, events: EventSink) -> Reply:
        decoded = self.toolbox.decode(ToolCall("mcp", name, json.dumps(arguments, ensure_ascii=False)))
        if isinstance(decoded, HelpReply):
            text, _ = model_text(decoded.content, self.masker, raw=True)
            return Reply(text, False, "help")
        if isinstance(decoded, InvalidCall):
            return self._reply({"status": "invalid_arguments", "message": decoded.message}, "invalid")
        spec, params = decoded.spec, decoded.params
        try:
            outcome = self.runner.run(spec, params, confirmer=confirmer, on_event=events)
        except ApprovalRequired as exc:
            payload = {"status": "approval_required", "command": spec.name, "message": exc.message, "plan": exc.plan}
            return self._reply({**payload, "ways_forward": exc.hint}, "denied")
        except Declined as exc:
            if exc.decided_by in ("mcp", "user"):
                return self._reply({"status": "declined", "command": spec.name, "message": DECLINED}, "declined")
            payload = {"status": "denied", "command": spec.name, "message": exc.message, "hint": exc.hint}
            return self._reply(payload, "denied")
        except MODEL_ERRORS as exc:
            status, _full, payload = error_result(spec.name, exc, declined_by_user=False)
            return self._reply(payload, status)
        except CargoShellError as exc:  # e.g. an unreadable policy file: nothing ran, say what to fix
            return self._reply({"status": "error", "command": spec.name, **exc.to_json()}, "error")
        status, payload = outcome_payload(spec, params, outcome)
        self._job_notes(outcome, payload)
        return self._reply(payload, status, is_error=status != "ok")

    def _job_notes(self, outcome: Outcome, payload: dict[str, Any]) -> None:
        if outcome.revealed and outcome.spec.effect != "read":
            payload["secret_note"] = (
                "the secret this action created is masked here; cargo-shell shows such values only in a terminal"
            )
        job = payload.get("job")
        if not isinstance(job, dict) or not outcome.job_id or not outcome.job_kind:
            return
        kind = self.executor.registry.job_kind(outcome.job_kind)
        if outcome.job_status not in kind.terminal:
            job["follow_with"] = wait_command(outcome.job_id)

    def _reply(self, payload: dict[str, Any], status: str, *, is_error: bool = True) -> Reply:
        text, _ = model_text(payload, self.masker, budget=self.result_budget)
        return Reply(text, is_error, status)
