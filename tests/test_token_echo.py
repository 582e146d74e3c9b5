"""A token typed before its hidden prompt is on screen is never echoed, and the echo always comes back.

Real pseudo-terminals (pexpect) and a served sandbox to log in to. The token is sent as soon as the
program has turned the terminal's echo off (``waitnoecho``: the first thing it does, long before
its prompt is drawn), or right after the previous answer during onboarding.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

TIMEOUT = 60


def _binary() -> list[str]:
    exe = Path(sys.executable).parent / "cargo-shell"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "cargo_shell"]


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CARGO_", "OPENAI_"))}
    env.update(CARGO_SHELL_HOME=str(home), CARGO_SHELL_NO_KEYRING="1", TERM="xterm", NO_COLOR="1")
    return env


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(base URL, admin token) of a sandbox served from its own home."""
    home = tmp_path / "server-home"
    server = subprocess.Popen(
        [*_binary(), "sandbox", "serve", "--port", "0"],
        env=_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        yield url, (home / "data" / "sandbox" / "admin-token").read_text().strip()
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(TIMEOUT)


def _spawn(home: Path, *args: str) -> tuple[pexpect.spawn, io.StringIO]:
    cmd = _binary()
    child = pexpect.spawn(
        cmd[0], [*cmd[1:], *args], env=_env(home), encoding="utf-8", timeout=TIMEOUT, dimensions=(40, 120)
    )
    screen = io.StringIO()
    child.logfile_read = screen
    return child, screen


def test_login_token_typed_before_the_prompt_is_not_echoed(tmp_path: Path, served: tuple[str, str]) -> None:
    url, token = served
    child, screen = _spawn(tmp_path / "home", "login", "--base-url", url)
    assert child.waitnoecho(timeout=TIMEOUT), "the terminal still echoes"
    child.send(token + "\r")  # typed at once: the hidden prompt is not even drawn yet
    child.expect('"tokenStoredIn"')
    child.expect(pexpect.EOF)
    assert child.getecho(), "the echo was not given back"
    child.close()
    assert child.exitstatus == 0, screen.getvalue()
    assert token not in screen.getvalue()
    assert "API token (hidden)" in screen.getvalue()


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm", "ctrl-d"])
def test_the_echo_comes_back_on_every_way_out_of_the_hidden_prompt(tmp_path: Path, how: str) -> None:
    child, screen = _spawn(tmp_path / "home", "login", "--base-url", "http://127.0.0.1:9")
    child.expect(r"API token \(hidden\):")
    if how == "ctrl-c":
        child.sendintr()
    elif how == "ctrl-d":
        child.sendeof()
    else:
        child.kill(signal.SIGTERM)
    child.expect(pexpect.EOF)
    assert child.getecho(), f"{how}: the echo was not given back"
    child.close()
    expected = {"ctrl-c": 130, "ctrl-d": 2, "sigterm": 128 + signal.SIGTERM}[how]
    assert child.exitstatus == expected, screen.getvalue()


def _log_in_by_choice(child: pexpect.spawn, url: str, token: str) -> None:
    """Answer 2 (log in), then type the token at once, before its prompt is drawn.

    Until the next prompt is on screen the terminal is looked at again and again: it must never
    echo in between (before the fix it did, while the login step imported the executor).
    """
    child.expect(r"Choose 1 or 2")
    child.send("2\r")
    child.send(token + "\r")
    echoed = False
    give_up = time.monotonic() + TIMEOUT
    while child.expect([r"API base URL", pexpect.TIMEOUT], timeout=0.02) == 1:
        echoed = echoed or child.getecho()
        assert time.monotonic() < give_up, "no base URL prompt after the token"
    assert not echoed, "the terminal echoed keys between the answer and the hidden prompt"
    child.sendline(url)
    child.expect("Logged in as ada.admin@acme-demo.com")
    child.expect("Workspace UUID to act in")
    child.sendline("")
    child.expect(r"Saved \(token in the file store")


def test_onboarding_and_slash_login_never_echo_a_token_typed_ahead(tmp_path: Path, served: tuple[str, str]) -> None:
    url, token = served
    child, screen = _spawn(tmp_path / "new-user")
    _log_in_by_choice(child, url, token)
    child.expect(r"Choose 1, 2 or 3")
    child.sendline("")
    child.expect(r"Answer n to decline")
    child.sendline("n")
    child.expect("cargo› ")
    child.sendline("/login")
    _log_in_by_choice(child, url, token)
    child.expect("cargo› ")
    child.sendline("whoami")
    child.expect("ada.admin@acme-demo.com")
    child.expect("cargo› ")
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert token not in screen.getvalue()
