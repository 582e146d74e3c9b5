"""The sandbox's integration catalogue (a small, static subset of the platform's).

Each integration carries its connector credential schema, actions (keys are the
``actionSlug`` of connector nodes), extractors and autocompletes. ``sandboxOptions`` holds
the values the demo account of that integration offers to autocomplete (local data only), and
``sandboxLanguageModels`` the models a language-model provider's demo account lists.
"""

from __future__ import annotations

from typing import Any

ICON = "https://sandbox.local/_sandbox/icons/{slug}.svg"


def _config(json_schema: dict[str, Any]) -> dict[str, Any]:
    """A config's JSON schema under ``schema`` (the client's type) and ``jsonSchema`` (the documented name)."""
    return {"schema": json_schema, "jsonSchema": json_schema}


def _schema(required: list[str], **props: str) -> dict[str, Any]:
    return _config(
        {
            "type": "object",
            "required": required,
            "properties": {k: {"type": "string", "title": v} for k, v in props.items()},
        }
    )


#: The schema of an extractor's meta (the sandbox's extractors keep none).
NO_META = {"schema": {"type": "object", "properties": {}}}


def _action(
    name: str,
    description: str,
    cost: float,
    schema: dict[str, Any],
    *,
    autocomplete: str | None = None,
    children: int = 1,
) -> dict[str, Any]:
    config = dict(schema)
    if autocomplete:
        field = next(iter(schema["jsonSchema"]["properties"]))
        config["uiSchema"] = {
            field: {"ui:widget": "IntegrationAutocompleteWidget", "ui:options": {"slug": autocomplete}}
        }
    credits = {"costs": [{"type": "fixed", "cost": cost}] if cost else []}
    return {
        "name": name,
        "description": description,
        "config": config,
        "credits": credits,
        "children": [{"text": "Next"}] * children,
    }


def _extractor(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "description": description,
        "config": _schema([]),
        "meta": NO_META,
        "kind": "record",
        "mode": {"kind": "fetch", "isIncremental": True},
        "preview": "records",
    }


def _language_model(
    slug: str, name: str, description: str, context: int, output: int, reasoning: bool = False
) -> dict[str, Any]:
    return {
        "slug": slug, "name": name, "description": description, "contextWindowTokensLimit": context,
        "outputTokensLimit": output, "isReasoning": reasoning,
    }  # fmt: skip


def _integration(
    slug: str,
    name: str,
    category: str,
    description: str,
    url: str,
    color: str,
    connector: dict[str, Any],
    actions: dict[str, Any],
    extractors: dict[str, Any] | None = None,
    autocompletes: dict[str, list[dict[str, Any]]] | None = None,
    credits: bool = False,
    sub: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "slug": slug,
        "name": name,
        "description": description,
        "icon": ICON.format(slug=slug),
        "color": color,
        "url": url,
        "category": category,
        "subCategories": sub or [],
        "connector": {**connector, "credits": {"isCompatible": credits}},
        "actions": actions,
        "extractors": extractors or {},
        "dynamicSchemas": {},
        "autocompletes": [
            {
                "slug": s,
                "params": {"jsonSchema": {"type": "object", "properties": {}}},
                "cacheExpirationInSeconds": 1800,
            }
            for s in (autocompletes or {})
        ],
        "sandboxOptions": autocompletes or {},
    }


INTEGRATIONS: dict[str, dict[str, Any]] = {
    i["slug"]: i
    for i in (
        _integration(
            "hubspot",
            "HubSpot",
            "sales",
            "CRM: contacts, companies, deals and owners.",
            "https://www.hubspot.com",
            "#ff7a59",
            {"config": _schema(["accessToken"], accessToken="Access token")},
            {
                "createContact": _action(
                    "Create contact",
                    "Create or update a HubSpot contact",
                    0,
                    _schema(["email"], email="Email", firstName="First name"),
                ),
                "assignOwner": _action(
                    "Assign owner",
                    "Set the owner of a contact",
                    0,
                    _schema(["ownerId"], ownerId="Owner", email="Contact email"),
                    autocomplete="owners",
                ),
            },
            {
                "contacts": _extractor("Contacts", "Sync HubSpot contacts"),
                "companies": _extractor("Companies", "Sync HubSpot companies"),
            },
            {
                "owners": [
                    {"label": "Ada Lovelace", "value": "owner_101"},
                    {"label": "Grace Hopper", "value": "owner_102"},
                    {"label": "Alan Turing", "value": "owner_103"},
                ]
            },
        ),
        _integration(
            "salesforce",
            "Salesforce",
            "sales",
            "CRM: leads, accounts and opportunities.",
            "https://www.salesforce.com",
            "#00a1e0",
            {"config": _schema(["instanceUrl"], instanceUrl="Instance")},
            {
                "upsertLead": _action(
                    "Upsert lead", "Create or update a lead", 0, _schema(["email"], email="Email", company="Company")
                )
            },
            {"accounts": _extractor("Accounts", "Sync Salesforce accounts")},
        ),
        _integration(
            "clearbit",
            "Clearbit",
            "enrichment",
            "Company and person enrichment from a domain or email.",
            "https://clearbit.com",
            "#3c8cff",
            {"config": _schema(["apiKey"], apiKey="API key")},
            {
                "enrichCompany": _action(
                    "Enrich company", "Firmographics from a domain", 2, _schema(["domain"], domain="Domain")
                ),
                "enrichPerson": _action(
                    "Enrich person", "Person data from an email", 2, _schema(["email"], email="Email")
                ),
            },
            credits=True,
        ),
        _integration(
            "apolloio",
            "Apollo",
            "enrichment",
            "Prospect search and contact enrichment.",
            "https://www.apollo.io",
            "#f4c542",
            {"config": _schema(["apiKey"], apiKey="API key")},
            {
                "findEmail": _action(
                    "Find email",
                    "Find a work email from name and domain",
                    1,
                    _schema(["domain"], domain="Domain", fullName="Full name"),
                )
            },
            credits=True,
            sub=["listBuilding"],
        ),
        _integration(
            "slack",
            "Slack",
            "engagement",
            "Post messages to channels and users.",
            "https://slack.com",
            "#4a154b",
            {"config": _schema(["botToken"], botToken="Bot token")},
            {
                "sendMessage": _action(
                    "Send message",
                    "Post a message to a channel",
                    0,
                    _schema(["channel", "text"], channel="Channel", text="Message"),
                    autocomplete="channels",
                )
            },
            autocompletes={
                "channels": [
                    {"label": "#revenue-alerts", "value": "C0SBX001"},
                    {"label": "#sales", "value": "C0SBX002"},
                    {"label": "#marketing", "value": "C0SBX003"},
                ]
            },
        ),
        _integration(
            "googleSheets",
            "Google Sheets",
            "storage",
            "Read and append spreadsheet rows.",
            "https://sheets.google.com",
            "#0f9d58",
            {"config": _schema([])},
            {
                "appendRow": _action(
                    "Append row", "Append a row to a sheet", 0, _schema(["spreadsheetId"], spreadsheetId="Spreadsheet")
                )
            },
        ),
        _integration(
            "http",
            "HTTP",
            "custom",
            "Call any HTTP endpoint.",
            "https://developer.mozilla.org",
            "#333333",
            {"config": _schema([])},
            {"request": _action("Request", "Send an HTTP request", 0, _schema(["url"], url="URL"))},
        ),
        {
            **_integration(
                "openai",
                "OpenAI",
                "freeform",
                "Language models for agents, with your own API key.",
                "https://openai.com",
                "#10a37f",
                {"config": _schema(["apiKey"], apiKey="API key")},
                {},
            ),
            "sandboxLanguageModels": [
                _language_model("gpt-4o", "GPT-4o", "Flagship multimodal model.", 128_000, 16_384),
                _language_model("gpt-4o-mini", "GPT-4o mini", "Small, fast and cheap.", 128_000, 16_384),
                _language_model("o3-mini", "o3-mini", "Reasoning model for multi-step work.", 200_000, 100_000, True),
            ],
        },
    )
}


def public(integration: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in integration.items() if not k.startswith("sandbox")}


def documentation(integration: dict[str, Any]) -> str:
    lines = [
        f"# {integration['name']}",
        "",
        integration["description"],
        "",
        f"Category: {integration['category']}. Website: {integration['url']}",
        "",
        "## Connector",
        "",
    ]
    props = integration["connector"]["config"]["jsonSchema"]["properties"]
    lines += [f"- `{k}`: {v['title']}" for k, v in props.items()] or ["No credentials needed."]
    lines += ["", "## Actions", ""]
    for slug, action in integration["actions"].items():
        costs = action["credits"]["costs"]
        price = f" ({costs[0]['cost']} credits)" if costs else ""
        lines.append(f"- `{slug}`: {action['name']}{price}. {action['description']}")
    if integration["extractors"]:
        lines += ["", "## Extractors", ""]
        lines += [f"- `{slug}`: {e['description']}" for slug, e in integration["extractors"].items()]
    lines += ["", "_Served by the cargo-shell sandbox: actions are simulated offline._", ""]
    return "\n".join(lines)


def native_integration() -> dict[str, Any]:
    try:
        from cargo_shell.sandbox.engine.graph import NATIVE_ACTIONS
    except ImportError:
        NATIVE_ACTIONS = {}
    actions = {
        slug: {
            "name": slug[0].upper() + slug[1:],
            "description": description,
            "category": category,
            "icon": ICON.format(slug=slug),
            "config": _config({"type": "object"}),
            "credits": {"costs": []},
            "childrenCount": children if children is not None else 1,
        }
        for slug, (children, category, description) in NATIVE_ACTIONS.items()
    }
    extractors = {
        "file": {
            "name": "CSV file",
            "description": "Import an uploaded workspace CSV (config.s3Filename)",
            "kind": "file",
            "category": "object",
            "icon": ICON.format(slug="file"),
            "config": _schema(["s3Filename"], s3Filename="File"),
            "meta": NO_META,
            "mode": {"kind": "ingest", "isIncremental": False},
            "preview": "records",
        },
        "custom": {
            "name": "Custom model",
            "description": "An empty table with the columns in config.columns",
            "kind": "record",
            "category": "object",
            "icon": ICON.format(slug="custom"),
            "config": _config({"type": "object"}),
            "meta": NO_META,
            "mode": {"kind": "ingest", "isIncremental": False},
            "preview": "none",
        },
    }
    return {"actions": actions, "extractors": extractors}
