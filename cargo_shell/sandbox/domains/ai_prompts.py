"""Language-model helpers of the AI domain: prompt evaluation and rewriting, suggested actions, JSON
schemas from a description, and connecting to an outside MCP server.

The sandbox has no language model and reaches no outside server, so these answer 422
``unavailableInSandbox`` after checking their input, with one exception: a JSON *example* given as
the prompt of ``generateJsonSchema`` has exactly one schema that describes it, derived here without
a model (objects list their keys as required; arrays take the merged shape of their items).
"""

from __future__ import annotations

import json
from typing import Any

from cargo_shell.sandbox.fields import objects, optional, text
from cargo_shell.sandbox.http import UNAVAILABLE_STATUS, ApiError, Request, Router, bad_request, check_json_value

MAX_EXAMPLE_CHARS = 200_000
MCP_KINDS = ("custom", "connector")


def _no_model(what: str) -> ApiError:
    return ApiError(
        UNAVAILABLE_STATUS,
        f"{what} is not available in the sandbox: it runs a language model, and the sandbox has none",
        "unavailableInSandbox",
    )


def _prompt(body: dict[str, Any]) -> str:
    prompt = text(body, "prompt")
    if prompt is None or not prompt.strip():
        raise bad_request("prompt is required", "missingField")
    return prompt


def evaluate_prompt(req: Request) -> dict[str, Any]:
    body = req.body()
    _prompt(body)
    for name in ("actions", "capabilities", "resources"):
        if objects(body, name) is None:
            raise bad_request(f"{name} is required (an array, possibly empty)", "missingField")
    raise _no_model("Evaluating a prompt")


def optimize_prompt(req: Request) -> dict[str, Any]:
    _prompt(req.body())
    raise _no_model("Optimizing a prompt")


def generate_suggested_actions(req: Request) -> dict[str, Any]:
    body = req.body()
    for name in ("actions", "capabilities", "resources"):
        objects(body, name)
    for name in ("agentUuid", "messageUuid", "systemPrompt", "contextPrompt", "cacheKey"):
        text(body, name)
    raise _no_model("Generating suggested actions")


def connect_mcp_client(req: Request) -> dict[str, Any]:
    client = optional(req.body(), "mcpClient", dict)
    if client is None:
        raise bad_request("mcpClient is required: {kind: custom, name, url, ...} or {kind: connector, ...}")
    if client.get("kind") not in MCP_KINDS:
        raise bad_request(f"mcpClient.kind must be one of {', '.join(MCP_KINDS)}", "invalidField")
    raise ApiError(
        UNAVAILABLE_STATUS,
        "Connecting to an MCP server is not available in the sandbox: the server is outside, and the sandbox "
        "reaches no outside service",
        "unavailableInSandbox",
    )


# -- a JSON schema from a JSON example -----------------------------------------------------------
def schema_of(value: Any) -> dict[str, Any]:
    """The schema a JSON value is an example of."""
    if isinstance(value, dict):
        return {
            "type": "object",
            "properties": {key: schema_of(item) for key, item in value.items()},
            "required": list(value),
            "additionalProperties": False,
        }
    if isinstance(value, list):
        shapes = [schema_of(item) for item in value]
        return {"type": "array", "items": _merge(shapes) if shapes else {}}
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "integer"}
    if isinstance(value, float):
        return {"type": "number"}
    if isinstance(value, str):
        return {"type": "string"}
    return {"type": "null"}


def _merge(shapes: list[dict[str, Any]]) -> dict[str, Any]:
    """One schema for every item of an array: objects merge their keys (required where all have them)."""
    kinds = {s.get("type") for s in shapes}
    if kinds == {"integer", "number"}:
        return {"type": "number"}
    if len(kinds) > 1:
        unique: list[dict[str, Any]] = []
        for shape in shapes:
            if shape not in unique:
                unique.append(shape)
        return {"anyOf": unique}
    first = shapes[0]
    if first.get("type") == "object":
        properties: dict[str, list[dict[str, Any]]] = {}
        for shape in shapes:
            for key, sub in shape["properties"].items():
                properties.setdefault(key, []).append(sub)
        required = [key for key in properties if all(key in s["properties"] for s in shapes)]
        return {
            "type": "object",
            "properties": {key: _merge(subs) for key, subs in properties.items()},
            "required": required,
            "additionalProperties": False,
        }
    if first.get("type") == "array":
        items = [s["items"] for s in shapes if s["items"]]
        return {"type": "array", "items": _merge(items) if items else {}}
    return first


def generate_json_schema(req: Request) -> dict[str, Any]:
    body = req.body()
    prompt = _prompt(body)
    text(body, "systemPrompt")
    if len(prompt) > MAX_EXAMPLE_CHARS:
        raise bad_request(f"prompt is limited to {MAX_EXAMPLE_CHARS} characters", "invalidField")
    try:
        example = json.loads(prompt)
    except (ValueError, RecursionError):
        example = None
    if not isinstance(example, dict | list):
        raise ApiError(
            UNAVAILABLE_STATUS,
            "Writing a JSON schema from a description is not available in the sandbox: it needs a language "
            'model. Give a JSON example of the output as the prompt instead (e.g. {"score": 80, "reason": '
            '"..."}) and the sandbox derives its schema',
            "unavailableInSandbox",
        )
    check_json_value(example, "The JSON example in prompt")
    schema = schema_of(example)
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    return {"jsonSchema": schema}


def register(router: Router) -> None:
    r = router.route
    r("POST", "/v1/ai/prompts/evaluate")(evaluate_prompt)
    r("POST", "/v1/ai/prompts/optimize")(optimize_prompt)
    r("POST", "/v1/ai/prompts/generateJsonSchema")(generate_json_schema)
    r("POST", "/v1/ai/suggestedActions/generate")(generate_suggested_actions)
    r("POST", "/v1/ai/mcpClients/connect")(connect_mcp_client)
