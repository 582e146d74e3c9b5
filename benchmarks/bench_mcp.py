"""Benchmark: what ``cargo-shell mcp`` costs a client, in tokens and in time.

* Tokens of the tool list as an MCP client sees it: the ``tools`` of the ``tools/list`` result,
  as JSON (what a client turns into its model's tool definitions), plus the server's
  ``instructions``. Counted with o200k_base by the benchmarks' shared counter (``token_counter.py``
  says how it is found offline; the output names the counter used).
* Round-trip time of one read (``storage model list`` on the embedded sandbox): a ``tools/call``
  on an open MCP session over stdio, against the same command through the CLI (a new process
  each time, as a script or an agent's shell tool runs it). Median of N, after one warm-up each.

    python benchmarks/bench_mcp.py [--n 21]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters
from token_counter import token_counter

BIN = Path(sys.executable).parent / "cargo-shell"
READ = ["storage", "model", "list"]


def env_for(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CARGO_API", "CARGO_WORKSPACE"))}
    env.update(CARGO_SHELL_HOME=str(home), CARGO_SHELL_NO_KEYRING="1")
    return env


async def through_mcp(home: Path, n: int) -> tuple[str, str, list[float]]:
    params = StdioServerParameters(command=str(BIN), args=["mcp"], env=env_for(home))
    async with Client(params, mode="legacy") as client:
        listed = await client.list_tools()
        tools = json.dumps(
            listed.model_dump(by_alias=True, exclude_none=True, mode="json")["tools"], ensure_ascii=False
        )
        times: list[float] = []
        for i in range(n + 1):
            started = time.perf_counter()
            result = await client.call_tool("storage", {"command": " ".join(READ)})
            elapsed = time.perf_counter() - started
            assert not result.is_error
            if i:  # the first call is the warm-up
                times.append(elapsed)
        return tools, client.instructions or "", times


def through_cli(home: Path, n: int) -> list[float]:
    times: list[float] = []
    for i in range(n + 1):
        started = time.perf_counter()
        done = subprocess.run([str(BIN), *READ], capture_output=True, env=env_for(home), check=True)
        elapsed = time.perf_counter() - started
        assert json.loads(done.stdout)
        if i:
            times.append(elapsed)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=21)
    ns = parser.parse_args()
    name, count = token_counter()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        subprocess.run([str(BIN), "sandbox", "info"], capture_output=True, env=env_for(home), check=True)  # seed
        tools, instructions, mcp_times = anyio.run(through_mcp, home, ns.n)
        cli_times = through_cli(home, ns.n)
    print(f"token counter: {name}")
    print(f"tools/list (7 tools, as JSON): {count(tools):,} tokens ({len(tools):,} chars)")
    print(f"server instructions: {count(instructions):,} tokens")
    mcp_ms, cli_ms = statistics.median(mcp_times) * 1000, statistics.median(cli_times) * 1000
    print(f"read `{' '.join(READ)}`, median of {ns.n}:")
    print(f"  MCP tools/call on an open stdio session: {mcp_ms:.1f} ms (min {min(mcp_times) * 1000:.1f})")
    print(f"  CLI, a new process per call:             {cli_ms:.1f} ms (min {min(cli_times) * 1000:.1f})")
    print(f"  ratio MCP / CLI: {mcp_ms / cli_ms:.3f}")


if __name__ == "__main__":
    main()
