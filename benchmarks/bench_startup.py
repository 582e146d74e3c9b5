"""Time to first prompt of `cargo-shell` in a pseudo-terminal, optionally against litecli.

    python benchmarks/bench_startup.py [--runs 10] [--litecli /path/to/venv/bin/litecli]

Each run spawns the program in a pty (pexpect), waits for its prompt to be drawn, then sends
Ctrl-D. Prints the median and min/max in milliseconds. The shell runs on a throw-away
CARGO_SHELL_HOME (sandbox target, onboarding already done), after one warm-up run that creates
and seeds the sandbox, so the numbers measure start-up, not first-time seeding.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import pexpect
from medians import print_medians

MARK = "zq"  # typed right after the prompt appears; its echo means the line editor is live


def time_to_prompt(argv: list[str], prompt: str, env: dict[str, str]) -> tuple[float, float]:
    """(prompt on screen, typed keys echoed by the line editor) in seconds since spawn."""
    started = time.perf_counter()
    child = pexpect.spawn(argv[0], argv[1:], env=env, encoding="utf-8", timeout=60, dimensions=(40, 120))
    child.expect(prompt)
    shown = time.perf_counter() - started
    child.send(MARK)
    child.expect(MARK)
    live = time.perf_counter() - started
    child.send("\x15")  # Ctrl-U: clear the line, then Ctrl-D to leave
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    return shown, live


def measure(name: str, argv: list[str], prompt: str, env: dict[str, str], runs: int) -> tuple[float, float]:
    time_to_prompt(argv, prompt, env)  # warm-up: OS caches, sandbox seeding, .pyc files
    samples = [time_to_prompt(argv, prompt, env) for _ in range(runs)]
    shown, live = print_medians(
        name, 12, {"prompt shown": [s[0] * 1000 for s in samples], "keys live": [s[1] * 1000 for s in samples]}, runs
    )
    return shown, live


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--litecli", help="path to a litecli executable (installed outside this project)")
    ns = parser.parse_args()
    exe = Path(sys.executable).parent / "cargo-shell"
    shell = [str(exe)] if exe.exists() else [sys.executable, "-m", "cargo_shell"]
    with tempfile.TemporaryDirectory() as home:
        (Path(home) / "config").mkdir()
        (Path(home) / "config" / "config.json").write_text(json.dumps({"onboarded": True, "profiles": {}}))
        # PYTHONDONTWRITEBYTECODE is dropped: both programs run with their bytecode cached, as installed
        # (with it, every run would compile cargo-shell's sources again, not litecli's, compiled by pip)
        drop = ("CARGO_", "OPENAI_", "PYTHONDONTWRITEBYTECODE")
        env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
        env.update(CARGO_SHELL_HOME=home, TERM="xterm-256color", HOME=home)
        ours = measure("cargo-shell", shell, "cargo› ", env, ns.runs)
        if ns.litecli:
            db = Path(home) / "bench.db"
            theirs = measure("litecli", [ns.litecli, str(db)], r"bench\.db>", env, ns.runs)
            print(f"ratio        prompt shown: {ours[0] / theirs[0]:.2f}   keys live: {ours[1] / theirs[1]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
