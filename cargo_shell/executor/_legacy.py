"""The one path from any front end to the Cargo API.

``Executor.run(spec, params)`` validates, sends and maps errors; the CLI, the REPL and the
agent all call it and nothing else talks to the HTTP client.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from pydantic import BaseModel

from cargo_shell.api.client import ApiResponse, CargoClient
from cargo_shell.api.request import ApiRequest, apply_client_filters, build_request
from cargo_shell.errors import UsageError
from cargo_shell.registry import CommandSpec, get_registry
from cargo_shell.registry.jobs import JOB_KINDS
from cargo_shell.validation import validate_params


@dataclass
class Outcome:
    spec: CommandSpec
    params: BaseModel
    data: Any
    request_ids: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    job: dict[str, Any] | None = None


def dig(data: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


class Executor:
    def __init__(
        self,
        client: CargoClient,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        notice: Callable[[str], None] | None = None,
    ) -> None:
        self.client = client
        self.registry = get_registry()
        self.sleep = sleep
        self.clock = clock
        self.notice = notice or (lambda _msg: None)

    def validate(self, spec: CommandSpec, raw: Mapping[str, Any]) -> BaseModel:
        return validate_params(spec, raw)

    def request_for(self, spec: CommandSpec, params: BaseModel) -> ApiRequest:
        return build_request(spec, params)

    def run(
        self,
        spec: CommandSpec,
        params: BaseModel,
        *,
        download_to: IO[bytes] | None = None,
    ) -> Outcome:
        if spec.http is None:
            raise UsageError(f"`{spec.name}` is handled by cargo-shell itself, not the API")
        outcome = Outcome(spec, params, None)
        for arg in spec.args:
            if arg.location == "unsent" and getattr(params, arg.attr, None) is not None:
                outcome.notices.append(f"{arg.flag} has no field in the Cargo API and was not sent")
        if spec.http.steps:
            merged: dict[str, Any] = {}
            for step in spec.http.steps:
                resp = self._send(ApiRequest("GET", step.path), outcome)
                merged[step.key] = dig(resp.data, step.key) if isinstance(resp.data, dict) else resp.data
            outcome.data = merged
            return outcome
        resp = self._send(self.request_for(spec, params), outcome)
        outcome.data = apply_client_filters(spec, params, resp.data)
        if spec.download and download_to is not None:
            outcome.data = self._download(outcome.data, download_to)
        if spec.job is not None and getattr(params, "wait_until_finished", None):
            outcome.data = self._wait(spec, outcome)
        return outcome

    def _send(self, req: ApiRequest, outcome: Outcome) -> ApiResponse:
        resp = self.client.send(req)
        if resp.request_id:
            outcome.request_ids.append(resp.request_id)
        return resp

    def _download(self, data: Any, sink: IO[bytes]) -> dict[str, Any]:
        urls: list[str] = []
        if isinstance(data, dict):
            if isinstance(data.get("url"), str):
                urls.append(data["url"])
            urls.extend(u for u in data.get("urls") or [] if isinstance(u, str))
        total = sum(self.client.stream_url(u, sink) for u in urls)
        sink.flush()
        return {"downloadedFiles": len(urls), "bytes": total}

    def _wait(self, spec: CommandSpec, outcome: Outcome) -> Any:
        assert spec.job is not None
        kind = JOB_KINDS[spec.job.kind]
        job_id = dig(outcome.data, spec.job.id_path)
        if not job_id:
            return outcome.data
        get_spec = self.registry.get(kind.get_command)
        started = self.clock()
        while True:
            params = self.validate(get_spec, {get_spec.positionals[0].name: job_id})
            current = self._send(self.request_for(get_spec, params), outcome).data
            status = dig(current, f"{kind.response_key}.status")
            if status in kind.terminal:
                return current
            waited = self.clock() - started
            self.sleep(kind.slow_interval_s if waited > kind.slow_after_s else kind.interval_s)
