"""Loaded by the benchmark's fork server for runs against a model: the OpenAI SDK imports most of
itself lazily, on the first client and the first request; doing that here once saves every run's
process about a second. The client built for it sends nothing and is closed at once."""

from __future__ import annotations

from cargo_shell.agent.openai_model import ModelSettings, OpenAIChatModel

_client = OpenAIChatModel(ModelSettings("warm-up", "warm-up", "http://127.0.0.1:9/v1", max_retries=0)).client()
_ = _client.chat.completions.create  # the resource modules load on first access
_client.close()
