"""Sending an approved plan: its request (or steps), downloads, the job it starts, the data it answers.

This is the last step of :class:`~cargo_shell.executor.pipeline.Executor`'s pipeline, kept apart so the
pipeline reads as prepare → authorize → run; a staged rollout sends each of its batches through it.
"""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, Any

from cargo_shell.api.preview import PreviewSink
from cargo_shell.api.request import ApiRequest, apply_client_filters
from cargo_shell.executor.derived import add_derived_fields
from cargo_shell.executor.jobs import started_event
from cargo_shell.executor.planning import check_command
from cargo_shell.executor.polling import dig
from cargo_shell.executor.retry import creates_or_spends
from cargo_shell.secrets import KNOWN

if TYPE_CHECKING:
    from cargo_shell.executor.confirm import Confirmer
    from cargo_shell.executor.outcome import Outcome
    from cargo_shell.executor.pipeline import Executor
    from cargo_shell.executor.plan import Plan


def dispatch(
    executor: Executor,
    plan: Plan,
    outcome: Outcome,
    download_to: IO[bytes] | None,
    wait: bool,
    confirmer: Confirmer | None,
) -> None:
    """Send an approved plan's request (or steps) and turn the answer into ``outcome``.

    A job is recorded the moment the API accepts it and, when ``wait``, followed to its end.
    """
    spec, params = plan.spec, plan.params
    assert spec.http is not None
    if spec.http.steps:
        merged: dict[str, Any] = {}
        for step in spec.http.steps:
            resp = executor.send(ApiRequest("GET", step.path), outcome, unsafe=False)
            merged[step.key] = dig(resp.data, step.key) if isinstance(resp.data, dict) else resp.data
        outcome.data = merged
        return
    unsafe = creates_or_spends(spec, plan.effect)
    check = check_command(executor.registry, spec, plan.values) if unsafe else None
    request = plan.api_request if plan.api_request is not None else executor.request_for(spec, params)
    if spec.job is not None and executor.jobs is not None:
        executor.jobs.open()  # ready before the request leaves: recording the job is then one quick commit
    body_sink = (download_to or PreviewSink()) if spec.download_body else None
    resp = executor.send(request, outcome, unsafe=unsafe, check=check, sink=body_sink)
    if isinstance(body_sink, PreviewSink):  # no file to write to (the agent, the shell): a bounded preview
        outcome.data = body_sink.summary(resp.data)
        return
    if body_sink is not None:
        body_sink.flush()
        outcome.data = {"downloadedFiles": 1, "bytes": resp.data["bytes"]}
        return
    if spec.job is not None:  # first of all: from here on a killed process still leaves the job tracked
        executor.tracker.track(plan, outcome, resp.data)
    if plan.effect != "read":
        # a secret the API hands back (a token just created) is masked by value from now on;
        # what reads return is learned by the masker when it hides it on its way out
        outcome.revealed += KNOWN.learn(resp.data)
    outcome.data = add_derived_fields(spec, apply_client_filters(spec, params, resp.data, values=plan.values))
    if spec.download and download_to is not None:
        outcome.data = _download(executor, outcome.data, download_to)
    if spec.job is not None and outcome.job_id and outcome.job_kind:
        executor.emit(started_event(plan, outcome))
        if wait:
            executor.tracker.wait(outcome, confirmer)


def _download(executor: Executor, data: Any, sink: IO[bytes]) -> dict[str, Any]:
    urls: list[str] = []
    if isinstance(data, dict):
        if isinstance(data.get("url"), str):
            urls.append(data["url"])
        urls.extend(u for u in data.get("urls") or [] if isinstance(u, str))
    total = sum(executor.client.stream_url(u, sink) for u in urls)
    sink.flush()
    return {"downloadedFiles": len(urls), "bytes": total}
