"""The shared harness: one seeded sandbox per module, driven only through the real executor.

``World.run`` sends a registry command through ``Executor.run`` (validation, guards, the
real ``CargoClient`` over an in-process WSGI transport) and records its name, so every case
can prove it exercised the command it is named after. ``Cases`` maps command names to case
functions; the coverage test compares the union of all tables with the registry.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from functools import cached_property
from pathlib import Path
from typing import Any

import httpx
import pytest

from cargo_shell.api.client import CargoClient
from cargo_shell.errors import ApiStatusError, RequestError
from cargo_shell.executor import Executor, Outcome, Policy, RetryConfig
from cargo_shell.registry import get_registry
from cargo_shell.sandbox.runtime import Sandbox
from tests.support import FakeClock, open_copy

#: Wraps the in-process transport (the conformance test records every answer this way).
Wrap = Callable[[httpx.BaseTransport], httpx.BaseTransport]


class World:
    """A seeded sandbox, an executor on it, and the demo workspace's ids looked up by command."""

    def __init__(self, box: Sandbox, clock: FakeClock, wrap: Wrap | None = None) -> None:
        self.box = box
        self.clock = clock
        transport: httpx.BaseTransport = httpx.WSGITransport(app=box.app)
        http = httpx.Client(transport=wrap(transport) if wrap else transport)
        self.client = CargoClient(http, base_url=box.base_url, token=box.token, workspace_uuid=box.workspace_uuid)
        self.executor = Executor(
            self.client,
            policy=Policy(assume_yes=True),
            retry=RetryConfig(max_attempts=1),
            sleep=clock.sleep,
            clock=clock,
        )
        self.ran: set[str] = set()

    def close(self) -> None:
        self.client.close()

    # -- running ------------------------------------------------------------------------------
    def run(self, name: str, args: dict[str, Any] | None = None, **kwargs: Any) -> Outcome:
        self.ran.add(name)
        return self.executor.run(get_registry().get(name), dict(args or {}), **kwargs)

    def data(self, name: str, args: dict[str, Any] | None = None) -> Any:
        """Run and check the catalogue's response key is in the answer; returns the data."""
        outcome = self.run(name, args)
        key = get_registry().get(name).response_key
        if key is not None:
            assert isinstance(outcome.data, dict) and key in outcome.data, (name, key, outcome.data)
        return outcome.data

    def item(self, name: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
        """The object under the response key (``storage model get`` → the model)."""
        key = get_registry().get(name).response_key
        assert key is not None, name
        value = self.data(name, args)[key]
        assert isinstance(value, dict), (name, value)
        return value

    def items(self, name: str, args: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """The non-empty list under the response key, each item with a uuid (or slug/id)."""
        key = get_registry().get(name).response_key
        assert key is not None, name
        value = self.data(name, args)[key]
        assert isinstance(value, list) and value, (name, value)
        return value

    def fails(self, name: str, args: dict[str, Any], status: int | None = None) -> ApiStatusError:
        """Run a command that must answer an HTTP error; returns the error."""
        with pytest.raises(ApiStatusError) as info:
            self.run(name, args)
        if status is not None:
            assert info.value.status == status, (name, info.value.status, info.value.message)
        return info.value

    def unavailable(self, name: str, args: dict[str, Any]) -> RequestError:
        """A deliberate sandbox refusal: a 4xx that says the sandbox cannot do it, not retried."""
        with pytest.raises(RequestError) as info:
            self.run(name, args)
        error = info.value
        assert 400 <= error.status < 500 and error.reason == "unavailableInSandbox", (name, error.status)
        assert "sandbox" in error.message, error.message
        return error

    def gone(self, name: str, args: dict[str, Any]) -> None:
        """A read of something removed answers 404."""
        error = self.fails(name, args, status=404)
        assert isinstance(error, RequestError)

    def settle(self) -> None:
        """Let the sandbox engine finish everything due, far enough in (fake) time."""
        self.clock.advance(60)
        self.box.app.engine.advance(until_idle=True)

    # -- the seeded demo workspace, looked up through read commands ------------------------
    def _pick(self, name: str, args: dict[str, Any] | None = None, /, **where: Any) -> dict[str, Any]:
        for item in self.items(name, args):
            if all(item.get(k) == v for k, v in where.items()):
                return item
        raise AssertionError(f"{name}: nothing matches {where}")

    @cached_property
    def crm(self) -> dict[str, Any]:
        return self._pick("storage dataset list", slug="crm")

    @cached_property
    def companies(self) -> dict[str, Any]:
        return self._pick("storage model list", slug="companies")

    @cached_property
    def contacts(self) -> dict[str, Any]:
        return self._pick("storage model list", slug="contacts")

    @cached_property
    def segment(self) -> dict[str, Any]:
        return self._pick("segmentation segment list", slug="enterprise_software_accounts")

    @cached_property
    def slack(self) -> dict[str, Any]:
        return self._pick("connection connector list", integrationSlug="slack")

    @cached_property
    def score_tool(self) -> dict[str, Any]:
        """The native 'Score lead' tool: its runs cost no credits and need no network."""
        return self.tool_by_name("Score lead")

    def tool_by_name(self, name: str) -> dict[str, Any]:
        return self._pick("orchestration tool list", name=name)

    @cached_property
    def play(self) -> dict[str, Any]:
        return self._pick("orchestration play list")

    @cached_property
    def agent(self) -> dict[str, Any]:
        return self._pick("ai agent list", name="Lead researcher")

    @cached_property
    def admin(self) -> dict[str, Any]:
        return self.item("workspace user get-current")

    def folder(self, kind: str) -> dict[str, Any]:
        return self._pick("workspace folder list", kind=kind)


Case = Callable[[World], None]


class Cases:
    """Command name → the case that runs it against the sandbox."""

    def __init__(self) -> None:
        self.table: dict[str, Case] = {}
        #: A case covering several commands runs once per world; each command's test reports it.
        self._done: dict[tuple[int, Case], BaseException | None] = {}

    def add(self, *names: str) -> Callable[[Case], Case]:
        def register(fn: Case) -> Case:
            for name in names:
                assert name not in self.table, f"two cases for {name}"
                self.table[name] = fn
            return fn

        return register

    def names(self) -> list[str]:
        return sorted(self.table)

    def check(self, name: str, world: World) -> None:
        fn = self.table[name]
        key = (id(world), fn)
        if key not in self._done:
            try:
                fn(world)
                self._done[key] = None
            except BaseException as exc:
                self._done[key] = exc
        failure = self._done[key]
        if failure is not None:
            raise failure
        assert name in world.ran, f"the case for `{name}` never ran it"


def open_world(template: Path, root: Path, wrap: Wrap | None = None) -> Iterator[World]:
    """A world on a fresh copy of the seeded sandbox; ``wrap`` may wrap its HTTP transport."""
    clock = FakeClock()
    box = open_copy(template, root, clock)
    box.app.sleep = clock.sleep
    world = World(box, clock, wrap)
    try:
        yield world
    finally:
        world.close()
        box.close()


def fetch_download(world: World, name: str, args: dict[str, Any]) -> str:
    """Run a download command, then fetch every signed URL it answered; returns the text."""
    data = world.data(name, args)
    key = get_registry().get(name).response_key
    urls = data[key] if isinstance(data[key], list) else [data[key]]
    assert urls and all(u.startswith(world.box.base_url) for u in urls), urls
    sink = io.BytesIO()
    for url in urls:
        world.client.stream_url(url, sink)
    return sink.getvalue().decode("utf-8")
