"""The JSON schema of what an action produces when the sandbox runner executes it.

These describe the runner's own outputs (``runner._native``, ``services.simulate_connector``,
``services.SandboxServices.agent``, a tool's end node), so ``action get-output-schema`` answers
what a run of that action will really hold under ``runContext.<slug>``. A test runs each native
action and checks its output against the schema given here.
"""

from __future__ import annotations

from typing import Any

from cargo_shell.sandbox.engine.graph import CODE_ACTIONS, NATIVE_ACTIONS, NETWORK_ACTIONS

Schema = dict[str, Any]

STRING: Schema = {"type": "string"}
NUMBER: Schema = {"type": "number"}
BOOLEAN: Schema = {"type": "boolean"}
ANY: Schema = {}


def obj(required: bool = True, **props: Schema) -> Schema:
    return {"type": "object", "properties": props, "required": sorted(props) if required else []}


def nullable(schema: Schema) -> Schema:
    kind = schema.get("type")
    return {**schema, "type": [kind, "null"]} if isinstance(kind, str) else schema


#: The variable types a node's ``variables`` may declare, as JSON schema.
VARIABLE_TYPES: dict[str, Schema] = {
    "string": STRING,
    "number": NUMBER,
    "boolean": BOOLEAN,
    "object": {"type": "object"},
    "array": {"type": "array"},
}

#: Outputs that do not depend on the node's config.
FIXED_NATIVE: dict[str, Schema] = {
    "start": {"type": "object", "description": "the input record of the run"},
    "filter": obj(passed=BOOLEAN),
    "branch": obj(condition=BOOLEAN),
    "switch": obj(route=nullable(STRING), index=nullable(NUMBER)),
    "split": obj(variant={"type": "string", "enum": ["A", "B"]}),
    "formula": obj(result=ANY),
    "delay": obj(minutes=NUMBER, skippedInSandbox=BOOLEAN),
    "writeToModel": obj(id=STRING, title=STRING, modelUuid=STRING, written={"type": "array", "items": STRING}),
    "group": obj(items={"type": "array"}),
}

#: A company profile, what the sandbox's lookup-like connector actions answer.
COMPANY_PROFILE = obj(
    domain=STRING, name=STRING, employeeCount=NUMBER, industry=STRING, country=STRING, foundedYear=NUMBER,
    annualRevenue=NUMBER, linkedinUrl=STRING,
)  # fmt: skip
#: The receipt of any other (simulated, never sent) connector action.
CONNECTOR_RECEIPT = obj(id=STRING, status={"type": "string", "enum": ["accepted"]}, sandbox=BOOLEAN, message=STRING)


class NoSchema(Exception):
    """The action has no output the sandbox can describe; ``reason`` is the API's reason."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def variables_schema(config: Any) -> Schema:
    """The object a ``variables`` or ``end`` node outputs: one property per declared variable."""
    props: dict[str, Schema] = {}
    declared = config.get("variables") if isinstance(config, dict) else None
    for var in declared if isinstance(declared, list) else []:
        if isinstance(var, dict) and isinstance(var.get("name"), str):
            props[var["name"]] = VARIABLE_TYPES.get(str(var.get("type")), ANY)
    return obj(required=False, **props)


def agent_schema(config: Any) -> Schema:
    """An agent answers ``{answer}``: text, or the value of the JSON schema its config asks for."""
    output = config.get("output") if isinstance(config, dict) else None
    if isinstance(output, dict) and output.get("type") == "jsonSchema" and isinstance(output.get("jsonSchema"), dict):
        return obj(answer=output["jsonSchema"])
    return obj(answer=STRING)


def native_schema(action_slug: str, config: Any) -> Schema:
    if action_slug in ("variables", "end"):
        return variables_schema(config)
    if action_slug == "agent":
        return agent_schema(config)
    if action_slug in NETWORK_ACTIONS or action_slug in CODE_ACTIONS:
        raise NoSchema(f"The {action_slug} action does not run in the sandbox, so it has no output here", "sandbox")
    if action_slug in FIXED_NATIVE:
        return FIXED_NATIVE[action_slug]
    if action_slug in NATIVE_ACTIONS:  # pragma: no cover - every catalogued action is handled above
        raise NoSchema(f"The {action_slug} action has no output", "actionHasNoOutput")
    raise NoSchema(f"Unknown native action {action_slug!r}", "actionNotFound")


def connector_schema(integration: str, action: str) -> Schema:
    from cargo_shell.sandbox.engine.services import NETWORK_INTEGRATIONS, is_lookup

    if integration in NETWORK_INTEGRATIONS:
        raise NoSchema(f"The {integration} integration needs network access, so it has no output here", "sandbox")
    return COMPANY_PROFILE if is_lookup(action) else CONNECTOR_RECEIPT


def tool_schema(nodes: list[Any]) -> Schema:
    """A tool's output is its end node's variables."""
    for node in nodes:
        if isinstance(node, dict) and node.get("kind") == "native" and node.get("actionSlug") == "end":
            return variables_schema(node.get("config"))
    raise NoSchema("The tool's release has no end node, so it outputs nothing", "actionHasNoOutput")
