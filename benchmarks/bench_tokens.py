"""Benchmark: the tokens the agent sends on every model call, against a naive schema set.

Counts with OpenAI's o200k_base encoding (see ``token_counter.py`` for how it is found offline):

* the system prompt and the seven skill tool schemas (what every request carries);
  target: together <= 4,000 tokens with every operation of the platform reachable;
* the naive alternative, one function per command with its full argument schema
  (the params model's JSON schema) and summary; target: ours <= 0.25x of it;
* what progressive disclosure costs when it is used: a skill guide, one command's help.

Tool schemas are counted as their JSON text; providers render tools into the prompt in their own
format, so the figure is a close proxy, the same for ours and the naive set::

    pip install tiktoken
    python benchmarks/bench_tokens.py
"""

from __future__ import annotations

import json
from typing import Any

from token_counter import token_counter

from cargo_shell.agent.prompts import system_prompt
from cargo_shell.agent.skills import load_skills
from cargo_shell.agent.tools import build_tool_schemas, command_help
from cargo_shell.registry import get_registry

BUDGET = 4_000
RATIO_TARGET = 0.25


def naive_schemas(*, notes: bool = True) -> list[dict[str, Any]]:
    """One function per API command, full argument schema in every request."""
    out = []
    for spec in get_registry():
        if spec.http is None:
            continue
        params = spec.params_model.model_json_schema(by_alias=True)
        params.pop("title", None)
        for prop in params.get("properties", {}).values():
            prop.pop("title", None)
        description = spec.summary + ("\n" + "\n".join(spec.notes) if spec.notes and notes else "")
        out.append(
            {
                "type": "function",
                "function": {
                    "name": "_".join(spec.words).replace("-", "_"),
                    "description": description,
                    "parameters": params,
                },
            }
        )
    return out


def main() -> None:
    method, count = token_counter()
    prompt = system_prompt()
    tools = build_tool_schemas()
    naive = naive_schemas()
    prompt_tokens = count(prompt)
    tool_tokens = count(json.dumps(tools))
    naive_tokens = count(json.dumps(naive))
    ours = prompt_tokens + tool_tokens
    baseline = prompt_tokens + naive_tokens

    print(f"token counter: {method}")
    print(f"system prompt:                 {prompt_tokens:6d} tokens")
    for tool in tools:
        print(f"  tool {tool['function']['name']:<14}           {count(json.dumps(tool)):6d} tokens")
    print(f"seven skill tools:             {tool_tokens:6d} tokens")
    print(f"sent on every call:            {ours:6d} tokens (budget {BUDGET}: {'OK' if ours <= BUDGET else 'OVER'})")
    print(f"naive: {len(naive)} functions:          {naive_tokens:6d} tokens (+ prompt = {baseline})")
    ratio = tool_tokens / naive_tokens
    whole = ours / baseline
    verdict = "OK" if ratio <= RATIO_TARGET else "OVER"
    lean = count(json.dumps(naive_schemas(notes=False)))
    print(f"naive without command notes:   {lean:6d} tokens (ours = {tool_tokens / lean:.3f}x of it)")
    print(f"tools vs naive tools:          {ratio:6.3f}x (target <= {RATIO_TARGET}: {verdict})")
    print(f"prompt+tools vs prompt+naive:  {whole:6.3f}x")
    guides = {name: count(skill.body) for name, skill in load_skills().items()}
    print("on demand — skill guides:      " + ", ".join(f"{k} {v}" for k, v in guides.items()))
    helps = sorted(count(json.dumps(command_help(s), indent=1)) for s in get_registry() if s.http is not None)
    print(f"on demand — one command help:  median {helps[len(helps) // 2]}, max {helps[-1]} tokens")


if __name__ == "__main__":
    main()
