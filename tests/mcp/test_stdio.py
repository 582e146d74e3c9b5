"""``cargo-shell mcp`` over stdio, driven by the official SDK client as Claude Code or Cursor would."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
import pytest

from cargo_shell.agent.skills import SKILL_NAMES, load_skills
from cargo_shell.agent.tools import Toolbox
from tests.mcp.harness import (
    FOLDER,
    TOOL_WF,
    Person,
    audit,
    cli,
    folder_names,
    make_home,
    payload,
    stdio_client,
    text_of,
)


@pytest.fixture
def home(tmp_path: Path, seeded_sandbox_template: Path) -> Path:
    return make_home(tmp_path, seeded_sandbox_template)


def records(n: int) -> dict[str, object]:
    return {"kind": "records", "records": [{"domain": f"d{i}.example"} for i in range(n)]}


def test_initialize_lists_the_agents_seven_tools_and_the_skill_guides(home: Path) -> None:
    async def scenario() -> None:
        async with stdio_client(home) as client:
            assert client.protocol_version == "2025-11-25"
            assert client.server_info is not None and client.server_info.name == "cargo-shell"
            assert client.instructions and "[$ if" in client.instructions
            tools = (await client.list_tools()).tools
            agent = {s["function"]["name"]: s["function"] for s in Toolbox().schemas()}
            assert [t.name for t in tools] == list(SKILL_NAMES)
            for tool in tools:  # the same schemas as the shell's agent, word for word
                assert tool.description == agent[tool.name]["description"]
                assert tool.input_schema == agent[tool.name]["parameters"]
            resources = (await client.list_resources()).resources
            assert [str(r.uri) for r in resources] == [f"cargo-shell://skills/{n}" for n in SKILL_NAMES]
            guide = await client.read_resource("cargo-shell://skills/storage")
            content = guide.contents[0]
            assert isinstance(content, types.TextResourceContents)
            assert content.text == load_skills()["storage"].body

    anyio.run(scenario)


def test_a_read_runs_without_asking_and_help_discloses_a_command(home: Path) -> None:
    person = Person()

    async def scenario() -> None:
        async with stdio_client(home, person=person) as client:
            result = await client.call_tool("storage", {"command": "storage model list"})
            assert not result.is_error
            body = payload(result)
            assert body["status"] == "ok" and any(m["slug"] == "companies" for m in body["result"]["models"])
            help_text = text_of(await client.call_tool("storage", {"command": "storage model get", "help": True}))
            assert json.loads(help_text)["command"] == "storage model get"

    anyio.run(scenario)
    assert person.asked == []
    assert [line["phase"] for line in audit(home) if line["command"] == "storage model list"] == ["outcome"]


def test_a_write_is_refused_with_its_plan_when_the_client_cannot_elicit(home: Path) -> None:
    async def scenario() -> None:
        async with stdio_client(home) as client:  # no elicitation callback: no elicitation capability
            result = await client.call_tool("workspace", FOLDER)
            assert result.is_error
            body = payload(result)
            assert body["status"] == "approval_required"
            assert "does not support elicitation" in body["message"]
            line = body["plan"]["commandLine"]
            assert line.startswith("cargo-shell workspace folder create") and "'From MCP'" in line
            assert body["plan"]["effect"] == "write"
            assert line in body["ways_forward"]
            assert "cargo-shell policy allow 'workspace folder create'" in body["ways_forward"]

    anyio.run(scenario)
    assert "From MCP" not in folder_names(home)
    [refused] = [a for a in audit(home) if a["command"] == "workspace folder create"]
    assert (refused["phase"], refused["decision"], refused["frontEnd"]) == ("decision", "refused", "mcp")


def test_a_write_accepted_through_elicitation_runs_and_is_audited_as_approved_through_mcp(home: Path) -> None:
    person = Person(["accept"])

    async def scenario() -> None:
        async with stdio_client(home, person=person) as client:
            result = await client.call_tool("workspace", FOLDER)
            assert not result.is_error, text_of(result)
            assert payload(result)["result"]["folder"]["name"] == "From MCP"

    anyio.run(scenario)
    [asked] = person.asked
    assert "WRITE action: workspace folder create" in asked
    assert "$ cargo-shell workspace folder create --name 'From MCP'" in asked
    assert "From MCP" in folder_names(home)
    sent = [a for a in audit(home) if a["command"] == "workspace folder create" and a["phase"] == "sent"]
    assert [(a["decidedBy"], a["frontEnd"]) for a in sent] == [("mcp", "mcp")]


@pytest.mark.parametrize("answer", ["decline", "cancel", "accept-unticked"])
def test_a_write_the_person_does_not_approve_is_not_run(home: Path, answer: str) -> None:
    person = Person([answer])

    async def scenario() -> None:
        async with stdio_client(home, person=person) as client:
            result = await client.call_tool("workspace", FOLDER)
            assert result.is_error
            assert payload(result) == {
                "status": "declined",
                "command": "workspace folder create",
                "message": "declined by the user",
            }

    anyio.run(scenario)
    assert len(person.asked) == 1 and person.unexpected == 0
    assert "From MCP" not in folder_names(home)
    [line] = [a for a in audit(home) if a["command"] == "workspace folder create"]
    assert (line["decision"], line["decidedBy"]) == ("declined", "mcp")


def test_a_deny_rule_wins_and_the_person_is_never_asked(home: Path) -> None:
    cli(home, "policy", "deny", "workspace folder create")
    person = Person(["accept"])

    async def scenario() -> None:
        async with stdio_client(home, person=person) as client:
            result = await client.call_tool("workspace", FOLDER)
            assert result.is_error
            body = payload(result)
            assert body["status"] == "denied" and "denied by policy rule" in body["message"]

    anyio.run(scenario)
    assert person.asked == []
    assert "From MCP" not in folder_names(home)
    [line] = [a for a in audit(home) if a["command"] == "workspace folder create"]
    assert (line["decision"], line["decidedBy"]) == ("denied", "rule")


def test_read_only_refuses_every_non_read_and_still_reads(home: Path) -> None:
    person = Person(["accept"])

    async def scenario() -> None:
        async with stdio_client(home, "--read-only", person=person) as client:
            refused = await client.call_tool("workspace", FOLDER)
            assert refused.is_error and payload(refused)["status"] == "denied"
            assert "--read-only" in payload(refused)["message"]
            read = await client.call_tool("workspace", {"command": "workspace folder list"})
            assert not read.is_error

    anyio.run(scenario)
    assert person.asked == []
    assert "From MCP" not in folder_names(home)


def test_a_cost_action_shows_its_estimate_and_a_detached_batch_returns_its_id(home: Path) -> None:
    person = Person(["accept"])
    args = {"workflow-uuid": TOOL_WF, "data": records(3)}

    async def scenario() -> str:
        async with stdio_client(home, person=person) as client:
            result = await client.call_tool("orchestration", {"command": "orchestration batch create", "args": args})
            assert not result.is_error, text_of(result)
            job = payload(result)["job"]
            assert job["kind"] == "batch"
            assert job["follow_with"] == f"cargo-shell jobs wait {job['uuid']}"
            return str(job["uuid"])

    batch_id = anyio.run(scenario)
    [asked] = person.asked
    assert "COST action: orchestration batch create" in asked
    assert "estimate: 3 record(s)" in asked and "credits" in asked
    assert "touches: workflow 'Enrich company'" in asked
    assert cli(home, "jobs", "wait", batch_id)["batch"]["status"] == "success"  # the id re-attaches


def test_an_awaited_batch_reports_its_progress_done_failed_total(home: Path) -> None:
    person = Person(["accept"])
    seen: list[tuple[float, float | None, str | None]] = []
    args = {"workflow-uuid": TOOL_WF, "data": records(6), "wait-until-finished": True}

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total, message))

    async def scenario() -> None:
        async with stdio_client(home, person=person) as client:
            call = {"command": "orchestration batch create", "args": args}
            result = await client.call_tool("orchestration", call, progress_callback=on_progress)
            assert not result.is_error, text_of(result)
            assert payload(result)["job"]["status"] == "success"

    anyio.run(scenario)
    assert seen, "no progress notification arrived"
    values = [p for p, _, _ in seen]
    assert values == sorted(values) and len(set(values)) == len(values)  # MCP: progress only grows
    assert seen[0][2] is not None and "started, 6 runs" in seen[0][2]
    last = seen[-1]
    assert (last[0], last[1]) == (6.0, 6.0)
    assert last[2] is not None and last[2].endswith("ended success: 6 done (0 failed) of 6")


PLAY_WF = "9e12955c-7cdb-40d0-be50-cc9f01d9fa3c"  # play "Score new companies": a connector node, so batches are staged
GOLD = "0710d992-8783-4f8b-9022-8fe1eba60683"  # segment of 126 companies


def test_a_staged_rollout_asks_once_and_reports_every_stage(home: Path) -> None:
    person = Person(["accept"])
    messages: list[str] = []
    progress: list[tuple[float, float | None]] = []
    args = {"workflow-uuid": PLAY_WF, "data": {"kind": "segment", "segmentUuid": GOLD}, "wait-until-finished": True}

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        messages.append(message or "")
        progress.append((value, total))

    async def scenario() -> dict[str, Any]:
        async with stdio_client(home, person=person) as client:
            call = {"command": "orchestration batch create", "args": args}
            result = await client.call_tool("orchestration", call, progress_callback=on_progress)
            assert not result.is_error, text_of(result)
            return payload(result)  # type: ignore[no-any-return]

    body = anyio.run(scenario)
    [asked] = person.asked
    assert "staged rollout: 1 → 50 → 126 records" in asked
    rollout = body["result"]
    assert [stage["records"] for stage in rollout["stages"]] == [1, 49, 76]
    assert rollout["sentRecords"] == rollout["totalRecords"] == 126
    stages = [m for m in messages if m.startswith("rollout stage")]
    assert [m.split(":")[0] for m in stages if m.endswith("records")] == [f"rollout stage {i} of 3" for i in (1, 2, 3)]
    assert [m.split(" ended")[0] for m in stages if " ended " in m] == ["rollout stage 1 of 3", "rollout stage 2 of 3"]
    assert re.search(r"ended success: 76 done \(\d+ failed\) of 76$", messages[-1])  # the last stage's batch
    assert progress[-1] == (126.0, 126.0)


def test_secrets_are_masked_in_every_result(home: Path) -> None:
    token = cli(home, "sandbox", "info")["token"]
    person = Person(["accept"])
    texts: list[str] = []

    async def scenario() -> None:
        async with stdio_client(home, person=person) as client:
            created = await client.call_tool(
                "workspace", {"command": "workspace token create", "args": {"name": "for-ci"}}
            )
            assert not created.is_error, text_of(created)
            texts.append(text_of(created))
            for call in (
                {"command": "workspace token list"},
                {"command": "whoami"},
                {"command": "workspace user list"},
            ):
                texts.append(text_of(await client.call_tool("workspace", call)))

    anyio.run(scenario)
    created = json.loads(texts[0])
    assert "«masked»" in texts[0] and "secret_note" in created
    assert not any(token in text for text in texts)
    assert not any("cai_" in text for text in texts)  # no Cargo token shape, the new one included


def test_malformed_calls_get_errors_and_the_server_keeps_serving(home: Path) -> None:
    person = Person()

    async def scenario() -> None:
        async with stdio_client(home, person=person) as client:
            unknown_tool = await client.call_tool("shell", {"command": "rm -rf /"})
            assert unknown_tool.is_error and "there is no tool named 'shell'" in text_of(unknown_tool)
            bad_args = await client.call_tool("storage", {"command": "storage model get", "args": "x"})
            assert bad_args.is_error and "`args` must be an object" in text_of(bad_args)
            no_command = await client.call_tool("storage", {"command": "storage modle list"})
            assert no_command.is_error and "is not a command of the storage tool" in text_of(no_command)
            # the model cannot approve anything through its arguments
            sneaky = {**FOLDER, "args": {**FOLDER["args"], "yes": True}}  # type: ignore[dict-item]
            approved_by_model = await client.call_tool("workspace", sneaky)
            assert approved_by_model.is_error and payload(approved_by_model)["status"] == "invalid_arguments"
            still = await client.call_tool("storage", {"command": "storage model list"})
            assert not still.is_error

    anyio.run(scenario)
    assert person.asked == []
    assert "From MCP" not in folder_names(home)


def test_a_cancelled_awaited_batch_is_cancelled_and_audited(home: Path) -> None:
    person = Person(["accept"])
    args = {"workflow-uuid": TOOL_WF, "data": records(20), "wait-until-finished": True}
    batch: list[str] = []

    async def scenario() -> None:
        async with stdio_client(home, person=person) as client:
            started = anyio.Event()

            async def on_progress(progress: float, total: float | None, message: str | None) -> None:
                if message and " started" in message:
                    batch.append(message.split()[1])
                    started.set()

            async with anyio.create_task_group() as tg:

                async def call() -> None:
                    with anyio.CancelScope() as scope:
                        tg_scopes.append(scope)
                        await client.call_tool(
                            "orchestration",
                            {"command": "orchestration batch create", "args": args},
                            progress_callback=on_progress,
                        )

                tg_scopes: list[anyio.CancelScope] = []
                tg.start_soon(call)
                await started.wait()  # the batch exists and is being waited for
                tg_scopes[0].cancel()
            # calls run one at a time: this read is answered only once the cancelled call has wound down
            after = await client.call_tool(
                "orchestration", {"command": "orchestration batch get", "args": {"batch-uuid": batch[0]}}
            )
            assert payload(after)["result"]["batch"]["status"] == "cancelled"

    anyio.run(scenario)
    lines = [a for a in audit(home) if a.get("outcome") == "cancelled-by-user"]
    assert len(lines) == 1 and lines[0]["frontEnd"] == "mcp"


@pytest.mark.parametrize(("answer", "runs"), [("accept", True), ("decline", False)])
def test_a_2026_era_client_is_asked_through_rounds_of_the_call(home: Path, answer: str, runs: bool) -> None:
    person = Person([answer])

    async def scenario() -> dict[str, Any]:
        async with stdio_client(home, person=person, mode="auto") as client:
            assert client.protocol_version == "2026-07-28"
            result = await client.call_tool("workspace", FOLDER)
            assert result.is_error is not runs, text_of(result)
            return payload(result)  # type: ignore[no-any-return]

    body = anyio.run(scenario)
    [asked] = person.asked
    assert "$ cargo-shell workspace folder create --name 'From MCP'" in asked
    assert ("From MCP" in folder_names(home)) is runs
    lines = [a for a in audit(home) if a["command"] == "workspace folder create"]
    if runs:
        assert body["status"] == "ok"
        assert [(a["phase"], a["decidedBy"]) for a in lines if a["phase"] != "outcome"] == [("sent", "mcp")]
    else:
        assert body["status"] == "declined"
        assert [(a["decision"], a["decidedBy"]) for a in lines] == [("declined", "mcp")]


def test_a_2026_era_answer_cannot_be_replayed_for_another_call(home: Path) -> None:
    person = Person()

    async def scenario() -> None:
        async with stdio_client(home, person=person, mode="auto") as client:
            first = await client.session.call_tool("workspace", FOLDER, allow_input_required=True)
            assert isinstance(first, types.InputRequiredResult) and first.request_state
            yes = {"approve": types.ElicitResult(action="accept", content={"run": True})}
            other = {**FOLDER, "args": {**FOLDER["args"], "name": "Swapped"}}  # type: ignore[dict-item]
            swapped = await client.session.call_tool(
                "workspace", other, input_responses=yes, request_state=first.request_state, allow_input_required=True
            )
            assert isinstance(swapped, types.InputRequiredResult)  # another plan: asked anew, nothing ran
            again = await client.session.call_tool(
                "workspace", FOLDER, input_responses=yes, request_state=first.request_state, allow_input_required=True
            )
            assert isinstance(again, types.InputRequiredResult)  # the state was used up by the first try

    anyio.run(scenario)
    assert person.asked == []
    names = folder_names(home)
    assert "From MCP" not in names and "Swapped" not in names
    assert [a for a in audit(home) if a["command"] == "workspace folder create"] == []
