"""The protocol side: tools, resources and the thread each tool call runs in.

Built on the SDK's low-level ``Server`` (the tool schemas are the agent's own JSON, so nothing is
derived from Python signatures). Tool calls run one at a time in a worker thread — the executor,
its sandbox connection and its job store are one per process — and reach back to the event loop
for elicitation and progress. A handshake-era client (Claude Code, Cursor, Codex, Claude Desktop)
is asked through ``elicitation/create``; a 2026-07-28 client through rounds of the call
(:mod:`.rounds`); a client that declared no form elicitation gets the refusal with the plan.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable
from typing import Any, Literal

import anyio
import anyio.to_thread
import mcp_types as types
from anyio import from_thread
from mcp.server import Server, ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from cargo_shell import __version__
from cargo_shell.agent.skills import SKILL_NAMES, load_skills
from cargo_shell.agent.tools import INDEX_LEGEND
from cargo_shell.mcp import rounds
from cargo_shell.mcp.bridge import Reply, ToolBridge
from cargo_shell.mcp.cancel import CallStop, CancellableSleep
from cargo_shell.mcp.confirm import Ask, ElicitAction, McpConfirmer
from cargo_shell.mcp.progress import ProgressRelay

SKILL_URI = "cargo-shell://skills/{name}"
#: The key of the approval question in a 2026-07-28 ``InputRequiredResult``.
APPROVE_KEY = "approve"

INSTRUCTIONS = (
    "cargo-shell works a Cargo workspace through seven tools, one per skill; each takes "
    '{"command": "<full command words>", "args": {...}}. '
    + INDEX_LEGEND
    + " Writes, destructive and credit-spending calls are confirmed by the user through this client "
    "(elicitation) or refused with the plan; never retry a declined call. Read the skill guides "
    "(resources cargo-shell://skills/<skill>) before a multi-step task. Secrets are masked as «masked»."
)

#: (the exception) -> the error body to answer instead; records the crash (crash_log.internal_error).
OnCrash = Callable[[Exception], dict[str, Any]]


def _how_to_ask(ctx: ServerRequestContext[Any]) -> tuple[Literal["request", "rounds"] | None, str]:
    """How the person can be asked on this connection (a request, or rounds of the call), else why not."""
    session = ctx.session
    caps = session.client_capabilities
    elicitation = caps.elicitation if caps is not None else None
    if elicitation is None:
        return None, "this MCP client does not support elicitation"
    if elicitation.form is None and elicitation.url is not None:
        return None, "this MCP client supports only URL elicitation, not forms"
    if session.can_send_request:
        return "request", ""
    if ctx.protocol_version in MODERN_PROTOCOL_VERSIONS:
        return "rounds", ""
    return None, "this MCP connection cannot carry a question to the client"


def _answer_of(params: types.CallToolRequestParams) -> tuple[ElicitAction, dict[str, Any] | None] | None:
    response = (params.input_responses or {}).get(APPROVE_KEY)
    if not isinstance(response, types.ElicitResult):
        return None
    return response.action, dict(response.content or {})


class McpFrontEnd:
    def __init__(self, bridge: ToolBridge, sleep: CancellableSleep, *, on_crash: OnCrash) -> None:
        self.bridge = bridge
        self.sleep = sleep
        self.on_crash = on_crash
        self._lock = anyio.Lock()
        self._questions = rounds.OpenQuestions()
        self._skills = load_skills()
        self.server: Server[Any] = Server(
            "cargo-shell",
            version=__version__,
            title="cargo-shell",
            instructions=INSTRUCTIONS,
            on_list_tools=self._list_tools,
            on_call_tool=self._call_tool,
            on_list_resources=self._list_resources,
            on_read_resource=self._read_resource,
        )

    # -- tools ------------------------------------------------------------------------------
    async def _list_tools(
        self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        tools = [types.Tool.model_validate(tool) for tool in self.bridge.tool_list()]
        return types.ListToolsResult(tools=tools)

    async def _call_tool(
        self, ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult | types.InputRequiredResult:
        stop = CallStop()
        how, why_not = _how_to_ask(ctx)
        ask: Ask | None = None
        if how == "request":
            ask = self._asker(ctx, stop)
        elif how == "rounds":
            given = _answer_of(params)
            ask = rounds.asker(self._questions.take(params.request_state, *given) if given else None)
        confirmer = McpConfirmer(ask, why_not=why_not)
        relay = ProgressRelay(self._progress_sender(ctx))
        arguments = dict(params.arguments or {})

        def work() -> Reply:
            return self.bridge.call(params.name, arguments, confirmer, relay)

        async with self._lock:
            try:
                reply = await self._in_thread(work, stop)
            except rounds.NeedsAnswer as question:  # 2026-07-28 era: the question is this round's result
                form = types.ElicitRequestFormParams(message=question.message, requested_schema=question.schema)
                return types.InputRequiredResult(
                    input_requests={APPROVE_KEY: types.ElicitRequest(params=form)},
                    request_state=self._questions.open(question.message),
                )
            except Exception as exc:  # a bug: recorded, answered as an error, and the server keeps serving
                text = json.dumps(self.on_crash(exc), ensure_ascii=False)
                return types.CallToolResult(content=[types.TextContent(type="text", text=text)], is_error=True)
        return types.CallToolResult(content=[types.TextContent(type="text", text=reply.text)], is_error=reply.is_error)

    async def _in_thread(self, work: Callable[[], Reply], stop: CallStop) -> Reply:
        """Run ``work`` in a worker thread; on cancellation, stop it and wait until it has wound down."""
        finished = threading.Event()

        def run() -> Reply:
            self.sleep.current = stop
            try:
                return work()
            finally:
                self.sleep.current = None
                finished.set()

        try:
            return await anyio.to_thread.run_sync(run, abandon_on_cancel=True)
        except anyio.get_cancelled_exc_class():
            stop.stop()
            with anyio.CancelScope(shield=True):  # the job is cancelled and audited before the next call
                await anyio.to_thread.run_sync(finished.wait)
            raise

    def _asker(self, ctx: ServerRequestContext[Any], stop: CallStop) -> Ask:
        async def elicit(message: str, schema: dict[str, Any]) -> tuple[ElicitAction, dict[str, Any] | None]:
            with anyio.CancelScope() as scope:
                stop.on_stop(scope.cancel)
                if stop.event.is_set():
                    return "cancel", None
                result = await ctx.session.elicit_form(message, schema, related_request_id=ctx.request_id)
                return result.action, dict(result.content or {})
            return "cancel", None  # the call was cancelled while the person was being asked

        def ask(message: str, schema: dict[str, Any]) -> tuple[ElicitAction, dict[str, Any] | None]:
            return from_thread.run(elicit, message, schema)

        return ask

    def _progress_sender(self, ctx: ServerRequestContext[Any]) -> Callable[[float, float | None, str], None]:
        def send(progress: float, total: float | None, message: str) -> None:
            with contextlib.suppress(Exception):  # best effort: a client gone quiet must not fail the call
                from_thread.run(ctx.session.report_progress, progress, total, message)

        return send

    # -- resources --------------------------------------------------------------------------
    async def _list_resources(
        self, ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListResourcesResult:
        resources = [
            types.Resource(
                name=name,
                title=f"cargo-shell skill guide: {name}",
                uri=SKILL_URI.format(name=name),
                description=self._skills[name].description,
                mime_type="text/markdown",
            )
            for name in SKILL_NAMES
        ]
        return types.ListResourcesResult(resources=resources)

    async def _read_resource(
        self, ctx: ServerRequestContext[Any], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        uri = str(params.uri)
        for name in SKILL_NAMES:
            if uri == SKILL_URI.format(name=name):
                body = self._skills[name].body
                contents = [types.TextResourceContents(uri=uri, mime_type="text/markdown", text=body)]
                return types.ReadResourceResult(contents=contents)
        known = ", ".join(SKILL_URI.format(name=n) for n in SKILL_NAMES)
        raise MCPError(code=types.INVALID_PARAMS, message=f"no resource {uri!r}; the skill guides are {known}")
