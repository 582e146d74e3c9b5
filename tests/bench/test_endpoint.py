"""`cargo-shell bench --base-url http://127.0.0.1:PORT/v1 --model M` against a local OpenAI-compatible
server (tests/repl/stub_llm.py) that answers with the tasks' own scripts: streaming, parallel tool
calls, usage, retries after 429, and the three reports."""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Any

from cargo_shell.agent.openai_model import ModelSettings
from cargo_shell.bench.pool import RunSpec, run_all
from cargo_shell.bench.suite import PING, BenchOptions, run_bench
from cargo_shell.bench.task import load_tasks
from cargo_shell.environment import Environment
from tests.bench.helpers import bench, runs
from tests.bench.replay import replay_responder
from tests.repl.stub_llm import Failure, Reply, Stall, StubLLM

PICK = "count-companies-france,remaining-credits,folder-create-edited,play-segment-customers,segments-followup"


def test_a_local_endpoint_is_benchmarked_into_three_reports(tmp_path: Path) -> None:
    with StubLLM([], responder=replay_responder(decoys=["remaining-credits"])) as stub:
        ran = bench("--base-url", stub.base_url, "--model", "stub-model", "--only", PICK, "--repeat", "2",
                    "--jobs", "3", "--prices", "1,2", "--results", str(tmp_path))  # fmt: skip
    assert not stub.errors
    assert ran.status == 0, ran.err
    # the table on stdout
    assert "cargo-shell bench · stub-model · 5 tasks × 2" in ran.out
    assert re.search(r"remaining-credits\s+0/2", ran.out) and re.search(r"segments-followup\s+2/2", ran.out)
    assert "pass rate 80% (8/10 runs)" in ran.out and "pass^2 80% (4/5 tasks)" in ran.out
    # JSON for machines
    summary = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert summary["bench"]["model"] == "stub-model" and summary["bench"]["baseUrl"] == stub.base_url
    by_id = {t["id"]: t for t in summary["tasks"]}
    assert by_id["remaining-credits"]["passK"] is False and by_id["segments-followup"]["passK"] is True
    # tokens and cost are what the server reported, summed over every model call
    reported_in = sum(r["metrics"]["tokensIn"] for r in runs(tmp_path).values())
    assert summary["totals"]["tokensIn"] == reported_in > 0
    assert summary["totals"]["modelTurnsPerRun"] * 10 + 1 == len(stub.requests)  # and one check before the runs
    assert stub.requests[0]["messages"] == [{"role": "user", "content": PING}]
    expected_cost = (summary["totals"]["tokensIn"] * 1 + summary["totals"]["tokensOut"] * 2) / 1e6
    assert abs(summary["totals"]["costUsd"] - expected_cost) < 1e-6
    # parallel tool calls (play-segment-customers fetches twice in one reply) ran as two calls
    assert any(len(m.get("tool_calls") or []) == 2 for r in stub.requests for m in r["messages"])
    assert by_id["play-segment-customers"]["metrics"]["toolCallsPerRun"] == 4
    assert all(r.get("stream") is True and r["stream_options"] == {"include_usage": True} for r in stub.requests)
    # the HTML report, self-contained
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and "<svg" in html and "stub-model" in html
    assert not re.search(r"<script|<link|\bsrc=|url\(|@import", html)
    assert "remaining-credits" in html and "remaining = available − used" in html


def test_finished_runs_are_kept_and_only_missing_ones_run(tmp_path: Path) -> None:
    with StubLLM([], responder=replay_responder()) as stub:
        args = [
            "--base-url",
            stub.base_url,
            "--model",
            "stub-model",
            "--only",
            "user-role,card-on-file",
            "--results",
            str(tmp_path),
        ]
        first = bench(*args, "--output", "json")
        files = {p: p.stat().st_mtime_ns for p in (tmp_path / "runs").glob("*/*.json")}
        again = bench(*args, "--output", "json")
        untouched = {p: p.stat().st_mtime_ns for p in files}
        more = bench(*args, "--repeat", "2", "--output", "json")
        fresh = bench(*args, "--fresh", "--output", "json")
        other = bench(*args, "--model", "another-model")
    assert first.json()["bench"]["ranNow"] == 2
    assert again.json()["bench"]["ranNow"] == 0 and again.json()["bench"]["resumed"] == 2
    assert len(files) == 4 and untouched == files  # two results, two conversations, not rewritten
    assert more.json()["bench"]["ranNow"] == 2 and more.json()["totals"]["runs"] == 4
    assert fresh.json()["bench"]["ranNow"] == 2 and fresh.json()["totals"]["runs"] == 2
    assert other.status == 2
    assert "holds benchmark runs of another configuration: model 'stub-model' (now 'another-model')" in other.out
    assert "--fresh" in other.err


def test_rate_limits_are_waited_out(tmp_path: Path) -> None:
    """The first two requests of the run are refused with 429 and a Retry-After; the run still passes."""
    answer = replay_responder()
    refused: list[int] = []

    def limited(messages: list[dict[str, Any]]) -> Reply | Failure:
        if messages[-1]["content"] != PING and len(refused) < 2:
            refused.append(1)
            return Failure(429, "Rate limit reached for requests", headers={"retry-after": "1"})
        return answer(messages)

    with StubLLM([], responder=limited) as stub:
        ran = bench("--base-url", stub.base_url, "--model", "m", "--only", "user-role", "--results", str(tmp_path))
    assert ran.status == 0, ran.out + ran.err
    run = runs(tmp_path)["user-role#0"]
    assert run["status"] == "pass"
    assert len(stub.requests) == 1 + 2 + run["metrics"]["modelTurns"]  # the check, the two refused, the run's


def test_whole_replies_without_streaming(tmp_path: Path) -> None:
    with StubLLM([], responder=replay_responder()) as stub:
        ran = bench("--base-url", stub.base_url, "--model", "m", "--only", "user-role", "--no-stream",
                    "--results", str(tmp_path), "--output", "json")  # fmt: skip
    assert ran.status == 0
    assert all("stream" not in r for r in stub.requests)
    assert ran.json()["totals"]["tokensIn"] > 0


def test_a_model_that_refuses_stops_the_benchmark_before_any_run(tmp_path: Path) -> None:
    with StubLLM([Failure(401, "Incorrect API key provided")]) as stub:
        ran = bench("--base-url", stub.base_url, "--model", "m", "--only", "user-role", "--results", str(tmp_path))
    assert ran.status == 1
    assert "answered HTTP 401" in ran.out and "No task was run" in ran.out
    assert "--base-url" in ran.err
    assert len(stub.requests) == 1 and runs(tmp_path) == {}


def test_an_unreachable_model_is_reported_at_once(tmp_path: Path) -> None:
    with StubLLM([]) as stub:
        url = stub.base_url  # a port that was listening a moment ago and is closed now
    ran = bench("--base-url", url, "--model", "m", "--only", "user-role", "--retries", "0", "--results", str(tmp_path))
    assert ran.status == 1
    assert f"Cannot reach the language model at {url}" in ran.out and "No task was run" in ran.out


def test_the_token_budget_ends_a_run(tmp_path: Path) -> None:
    big = Reply(tool_calls=[("workspace", {"command": "workspace user list"})], usage=(5000, 100))
    with StubLLM([Reply("ready"), big, big, big]) as stub:
        ran = bench("--base-url", stub.base_url, "--model", "m", "--only", "user-role", "--token-budget", "4000",
                    "--results", str(tmp_path))  # fmt: skip
    run = runs(tmp_path)["user-role#0"]
    assert run["status"] == "budget"
    assert "token budget of 4,000 tokens is used up (5,100)" in run["error"]
    assert len(stub.requests) == 2  # the check before the runs, then one call of the run
    assert ran.status == 0  # a model over budget is a result, not a failure of the benchmark


def test_a_hung_model_is_cut_at_the_time_budget(tmp_path: Path) -> None:
    stall = Stall()
    with StubLLM([Reply("ready"), stall]) as stub:
        settings = ModelSettings("m", None, stub.base_url, max_retries=0)
        options = BenchOptions(pattern="user-role", results=tmp_path, settings=settings, seconds=1.0, grace=30.0)
        env = Environment()
        summary = run_bench(options, state_dir=env.paths.state_dir, cache_dir=env.paths.data_dir)
        assert stall.arrived.is_set() and not stall.release.is_set()  # the server never answered
    run = runs(tmp_path)["user-role#0"]
    assert run["status"] == "budget"
    assert run["error"].startswith("the time budget of 1 s ran out: ")  # the model call was cut at the deadline
    assert summary["totals"]["statuses"] == {"budget": 1}


def never_returns(spec: RunSpec) -> None:
    """A run's process that hangs where no budget check can see it (for the parent's deadline)."""
    threading.Event().wait()


def test_a_run_past_its_deadline_is_killed_and_recorded(tmp_path: Path) -> None:
    spec = RunSpec(
        task_raw=load_tasks("user-role")[0].raw,
        task_source="user-role.json",
        repeat=0,
        mode="oracle",
        template=str(tmp_path / "no-template"),
        home=str(tmp_path / "work" / "user-role" / "0"),
        result_file=str(tmp_path / "runs" / "user-role" / "0.json"),
        seconds=0.5,
        grace=0.5,
    )
    done: list[dict[str, Any]] = []
    run_all([spec], jobs=1, on_done=lambda _spec, result: done.append(result), target=never_returns)
    assert [r["status"] for r in done] == ["budget"]
    assert done[0]["error"] == "stopped: the run went past its time budget (0.5 s)"
    assert json.loads(Path(spec.result_file).read_text(encoding="utf-8"))["status"] == "budget"
