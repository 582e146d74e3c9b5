"""The expression domain: evaluating expressions with the sandbox engine, recipes and favourites.

``expressions/evaluate`` runs the same evaluator as node configs (``engine/expressions.py``): a
``templateExpression`` renders its ``{{ }}`` placeholders, a ``jsExpression`` is evaluated (the
sandbox's JavaScript subset); the ``variables`` are what the expression reads (``nodes.start.x``
reads ``{"nodes": {"start": {"x": ...}}}``). With ``fromRecipe`` the recipe's variables fill its
placeholders (read by their slug). An evaluation error is an answer (``errorMessage``), not a
failure. ``expressions/generate`` and ``instructTo: ai`` need a language model: 422.

Recipes are versioned (``createNewVersion`` adds version n+1 under the same uuid and short id);
public ones, the platform's (``workspaceUuid`` null) included, are visible to every workspace.
"""

from __future__ import annotations

import math
import random
from typing import Any

from cargo_shell.sandbox.db import Database, dumps, loads, register_migration
from cargo_shell.sandbox.engine import expressions
from cargo_shell.sandbox.fields import objects, optional, strings, text, uuid_ref
from cargo_shell.sandbox.http import UNAVAILABLE_STATUS, ApiError, Request, Router, bad_request
from cargo_shell.sandbox.util import as_int, iso, new_uuid, require

CATEGORIES = ("classification", "cleaning", "copywriting", "event", "marketing", "other", "sales")
KINDS = ("jsExpression", "templateExpression")
INSTRUCT_TO = ("ai", "none")
TABS = ("all", "favorites", "user", "workspace")
UI_TYPES = {"ai": "ai", "js": "none"}  # uiTypes value -> instructTo
PLACEHOLDER_KINDS = ("array", "boolean", "enum", "number", "string")
#: The author of the platform's own recipes (not a member of any workspace).
PLATFORM_USER = "00000000-0000-4000-8000-0000000ca760"

_TABLES = """
CREATE TABLE expr_recipes (
    uuid TEXT NOT NULL, version INTEGER NOT NULL, short_id TEXT NOT NULL, workspace_uuid TEXT,
    user_uuid TEXT NOT NULL, name TEXT NOT NULL, description TEXT NOT NULL, category TEXT NOT NULL,
    kind TEXT NOT NULL, instruct_to TEXT NOT NULL, expression TEXT NOT NULL, placeholders TEXT NOT NULL,
    is_public INTEGER NOT NULL, archived_at TEXT, created_at TEXT NOT NULL, PRIMARY KEY (uuid, version)
);
CREATE INDEX expr_recipes_short ON expr_recipes (short_id, version);
CREATE TABLE expr_favorites (
    workspace_uuid TEXT NOT NULL, user_uuid TEXT NOT NULL, recipe_uuid TEXT NOT NULL, created_at TEXT NOT NULL,
    archived_at TEXT, PRIMARY KEY (workspace_uuid, user_uuid, recipe_uuid)
);
"""


@register_migration("351_expression_tables")
def _m351(conn: Any) -> None:
    for statement in _TABLES.split(";"):
        if statement.strip():
            conn.execute(statement)


# -- evaluation ------------------------------------------------------------------------
def evaluate(req: Request) -> dict[str, Any]:
    body = req.body()
    expression = optional(body, "expression", dict)
    if expression is None:
        raise bad_request("expression is required: {kind, expression, instructTo, fromRecipe}", "missingField")
    variables = optional(body, "variables", dict)
    if variables is None:
        raise bad_request("variables is required (an object, {} for none)", "missingField")
    kind, source = expression.get("kind"), expression.get("expression")
    if kind not in KINDS or not isinstance(source, str):
        raise bad_request("expression needs kind (jsExpression | templateExpression) and expression (text)")
    if expression.get("instructTo") == "ai":
        raise ApiError(
            UNAVAILABLE_STATUS,
            "An AI instruction is written by a language model, which the sandbox does not have; "
            "evaluate it against the real Cargo API",
            "unavailableInSandbox",
        )
    scope = dict(variables)
    if expression.get("fromRecipe"):
        recipe = optional(expression, "recipe", dict) or {}
        _visible(req.ctx.db, req.ctx.workspace_uuid, recipe.get("uuid"))
        scope |= optional(recipe, "variables", dict) or {}
    try:
        if kind == "templateExpression":
            value = expressions.render_template(source, scope)
        else:
            value = expressions.evaluate(source, scope)
    except expressions.ExpressionError as exc:
        return {"errorMessage": str(exc)}
    return {"data": _json_value(value)}


def _json_value(value: Any) -> Any:
    """What JSON can carry: ``undefined``, NaN and infinities become null (as JSON.stringify does)."""
    if value is expressions.UNDEFINED or (isinstance(value, float) and not math.isfinite(value)):
        return None
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_value(v) for v in value]
    return value


def generate(_req: Request) -> dict[str, Any]:
    raise ApiError(
        UNAVAILABLE_STATUS,
        "Generating an expression from a prompt needs a language model, which the sandbox does not have; "
        "write the expression and check it with expression evaluate",
        "unavailableInSandbox",
    )


# -- recipes ---------------------------------------------------------------------------
def _visible(db: Database, ws: str, ref: Any, version: int | None = None) -> dict[str, Any]:
    """The recipe (its latest version, or ``version``) by uuid or short id, if this workspace can see it."""
    if not isinstance(ref, str) or not ref:
        raise bad_request("the recipe is named by its uuid or short id", "invalidField")
    sql = "SELECT * FROM expr_recipes WHERE (uuid = ? OR short_id = ?) AND (workspace_uuid = ? OR is_public = 1)"
    params: list[Any] = [ref, ref, ws]
    if version is not None:
        sql += " AND version = ?"
        params.append(version)
    row = db.one(sql + " ORDER BY version DESC LIMIT 1", params)
    if row is None:
        raise ApiError(404, "The recipe was not found", "recipeNotFound")
    return row


def _placeholders(raw: Any, where: str = "placeholders") -> list[dict[str, Any]]:
    if not isinstance(raw, list):
        raise bad_request(f"{where} must be a list of placeholders", "invalidField")
    for i, item in enumerate(objects({"p": raw}, "p") or []):
        at = f"{where}[{i}]"
        if not (isinstance(item.get("name"), str) and isinstance(item.get("slug"), str)):
            raise bad_request(f"{at} needs a name and a slug", "invalidField")
        if item.get("kind") not in PLACEHOLDER_KINDS:
            raise bad_request(f"{at}.kind must be one of {', '.join(PLACEHOLDER_KINDS)}", "invalidField")
        if item["kind"] == "enum" and not isinstance(strings(item, "enum"), list):
            raise bad_request(f"{at} of kind enum needs enum (a list of strings)", "invalidField")
        if item["kind"] == "array":
            _placeholders(item.get("items"), f"{at}.items")
    return raw


def _choice(body: dict[str, Any], name: str, allowed: tuple[str, ...]) -> str:
    value = body.get(name)
    if value not in allowed:
        raise bad_request(f"{name} is required: one of {', '.join(allowed)}", "invalidField")
    return str(value)


def _recipe_fields(body: dict[str, Any], *, with_kind: bool) -> dict[str, Any]:
    public = body.get("isPublic")
    if not isinstance(public, bool):
        raise bad_request("isPublic is required (true or false)", "missingField")
    if not isinstance(body.get("description"), str):
        raise bad_request("description is required (text, may be empty)", "missingField")
    fields = {
        "name": require(body, "name"), "description": body["description"],
        "category": _choice(body, "category", CATEGORIES), "expression": require(body, "expression"),
        "placeholders": dumps(_placeholders(body.get("placeholders"))), "is_public": int(public),
    }  # fmt: skip
    if with_kind:
        fields |= {"kind": _choice(body, "kind", KINDS), "instruct_to": _choice(body, "instructTo", INSTRUCT_TO)}
    return fields


def recipe_json(db: Database, row: dict[str, Any], user: str, ws: str) -> dict[str, Any]:
    author = db.one("SELECT first_name, last_name FROM users WHERE uuid = ?", (row["user_uuid"],))
    favorite = db.scalar(
        "SELECT 1 FROM expr_favorites WHERE workspace_uuid = ? AND user_uuid = ? AND recipe_uuid = ?"
        " AND archived_at IS NULL",
        (ws, user, row["uuid"]),
    )
    return {
        "uuid": row["uuid"], "shortId": row["short_id"], "version": row["version"],
        "workspaceUuid": row["workspace_uuid"], "name": row["name"], "description": row["description"],
        "category": row["category"], "isPublic": bool(row["is_public"]), "isBlacklisted": False,
        "archivedAt": row["archived_at"], "placeholders": loads(row["placeholders"], []),
        "expression": row["expression"], "instructTo": row["instruct_to"], "kind": row["kind"],
        "userUuid": row["user_uuid"], "userFirstName": author["first_name"] if author else None,
        "userLastName": author["last_name"] if author else None, "userPicture": None,
        "isFavorite": bool(favorite),
    }  # fmt: skip


def _answer(req: Request, row: dict[str, Any]) -> dict[str, Any]:
    return {"recipe": recipe_json(req.ctx.db, row, req.ctx.user_uuid, req.ctx.workspace_uuid)}


def _insert(db: Database, row: dict[str, Any]) -> dict[str, Any]:
    """Store a recipe version; returns it as read back."""
    db.execute(f"INSERT INTO expr_recipes ({', '.join(row)}) VALUES ({','.join('?' * len(row))})", tuple(row.values()))
    stored = db.one("SELECT * FROM expr_recipes WHERE uuid = ? AND version = ?", (row["uuid"], row["version"]))
    assert stored is not None
    return stored


def create_recipe(req: Request) -> dict[str, Any]:
    ctx = req.ctx
    uuid = new_uuid()
    row = {
        "uuid": uuid, "version": 1, "short_id": uuid.replace("-", "")[:10], "workspace_uuid": ctx.workspace_uuid,
        "user_uuid": ctx.user_uuid, **_recipe_fields(req.body(), with_kind=True), "created_at": iso(ctx.clock()),
    }  # fmt: skip
    return _answer(req, _insert(ctx.db, row))


def _own(req: Request, ref: Any) -> dict[str, Any]:
    row = _visible(req.ctx.db, req.ctx.workspace_uuid, ref)
    if row["workspace_uuid"] != req.ctx.workspace_uuid:
        raise ApiError(403, "This recipe belongs to another workspace; copy it to change it",
                       "recipeDoesNotBelongsToWorkspace")  # fmt: skip
    return row


def create_new_version(req: Request) -> dict[str, Any]:
    ctx = req.ctx
    last = _own(req, req.path_params["uuid"])
    if last["archived_at"]:
        raise ApiError(400, "The recipe is archived", "alreadyArchived")
    row = {**last, **_recipe_fields(req.body(), with_kind=False), "version": last["version"] + 1,
           "created_at": iso(ctx.clock())}  # fmt: skip
    return _answer(req, _insert(ctx.db, row))


def get_recipe(req: Request) -> dict[str, Any]:
    version = as_int(req.path_params["version"], "version", minimum=1)
    return _answer(req, _visible(req.ctx.db, req.ctx.workspace_uuid, req.path_params["uuidOrShortId"], version))


def get_last_version(req: Request) -> dict[str, Any]:
    return _answer(req, _visible(req.ctx.db, req.ctx.workspace_uuid, req.path_params["uuidOrShortId"]))


def list_recipes(req: Request) -> dict[str, Any]:
    ctx, q = req.ctx, req.query
    where = ["r.archived_at IS NULL", "(r.workspace_uuid = ? OR r.is_public = 1)",
             "r.version = (SELECT MAX(version) FROM expr_recipes v WHERE v.uuid = r.uuid)"]  # fmt: skip
    params: list[Any] = [ctx.workspace_uuid]
    tab = text(q, "tab") or "all"
    if tab not in TABS:
        raise bad_request(f"tab must be one of {', '.join(TABS)}")
    if tab == "workspace":
        where.append("r.workspace_uuid = ?")
        params.append(ctx.workspace_uuid)
    elif tab == "user":
        where.append("r.user_uuid = ?")
        params.append(ctx.user_uuid)
    elif tab == "favorites":
        where.append(
            "EXISTS (SELECT 1 FROM expr_favorites f WHERE f.recipe_uuid = r.uuid AND f.workspace_uuid = ?"
            " AND f.user_uuid = ? AND f.archived_at IS NULL)"
        )
        params += [ctx.workspace_uuid, ctx.user_uuid]
    for field, column, allowed in (("categories", "category", CATEGORIES), ("uiTypes", "instruct_to", tuple(UI_TYPES))):
        values = strings(q, field) or []
        if bad := [v for v in values if v not in allowed]:
            raise bad_request(f"{field}: {bad[0]!r} is not one of {', '.join(allowed)}")
        if values:
            mapped = [UI_TYPES[v] for v in values] if field == "uiTypes" else values
            where.append(f"r.{column} IN ({','.join('?' * len(mapped))})")
            params += mapped
    if name := text(q, "name"):
        where.append("r.name LIKE ?")
        params.append(f"%{name}%")
    limit, offset = as_int(q.get("limit"), "limit", 50, maximum=1000), as_int(q.get("offset"), "offset", 0)
    rows = ctx.db.all(
        f"SELECT r.* FROM expr_recipes r WHERE {' AND '.join(where)} ORDER BY r.created_at DESC, r.uuid"
        " LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    return {"recipes": [recipe_json(ctx.db, r, ctx.user_uuid, ctx.workspace_uuid) for r in rows]}


def archive_recipe(req: Request) -> dict[str, Any]:
    row = _own(req, req.path_params["uuidOrShortId"])
    if not row["archived_at"]:
        req.ctx.db.execute(
            "UPDATE expr_recipes SET archived_at = ? WHERE uuid = ?", (iso(req.ctx.clock()), row["uuid"])
        )
    return {}


# -- favourites ------------------------------------------------------------------------
def create_favorite(req: Request) -> dict[str, Any]:
    ctx = req.ctx
    row = _visible(ctx.db, ctx.workspace_uuid, uuid_ref(req.body(), "recipeUuid"))
    if row["archived_at"]:
        raise ApiError(400, "The recipe is archived", "alreadyArchived")
    ctx.db.execute(
        "INSERT INTO expr_favorites VALUES (?, ?, ?, ?, NULL) ON CONFLICT (workspace_uuid, user_uuid, recipe_uuid)"
        " DO UPDATE SET archived_at = NULL",
        (ctx.workspace_uuid, ctx.user_uuid, row["uuid"], iso(ctx.clock())),
    )
    return {}


def delete_favorite(req: Request) -> dict[str, Any]:
    ctx = req.ctx
    ref = req.path_params["recipeUuid"]
    recipe = ctx.db.one("SELECT workspace_uuid, is_public FROM expr_recipes WHERE uuid = ? LIMIT 1", (ref,))
    if recipe is None:
        raise ApiError(404, "The recipe was not found", "recipeNotFound")
    if recipe["workspace_uuid"] != ctx.workspace_uuid and not recipe["is_public"]:
        raise ApiError(403, "This recipe belongs to another workspace", "recipeDoesNotBelongsToWorkspace")
    favorite = ctx.db.one(
        "SELECT archived_at FROM expr_favorites WHERE workspace_uuid = ? AND user_uuid = ? AND recipe_uuid = ?",
        (ctx.workspace_uuid, ctx.user_uuid, ref),
    )
    if favorite is None:
        raise ApiError(404, "The recipe is not one of your favourites", "recipeNotFound")
    if favorite["archived_at"]:
        raise ApiError(400, "The recipe is no longer one of your favourites", "alreadyArchived")
    ctx.db.execute(
        "UPDATE expr_favorites SET archived_at = ? WHERE workspace_uuid = ? AND user_uuid = ? AND recipe_uuid = ?",
        (iso(ctx.clock()), ctx.workspace_uuid, ctx.user_uuid, ref),
    )
    return {}


def register(router: Router) -> None:
    r = router.route
    r("POST", "/v1/expression/expressions/evaluate")(evaluate)
    r("POST", "/v1/expression/expressions/generate")(generate)
    r("POST", "/v1/expression/recipes")(create_recipe)
    r("GET", "/v1/expression/recipes/list")(list_recipes)
    r("POST", "/v1/expression/recipes/{uuid}")(create_new_version)
    r("GET", "/v1/expression/recipes/{uuidOrShortId}/last")(get_last_version)
    r("GET", "/v1/expression/recipes/{uuidOrShortId}/{version}")(get_recipe)
    r("PUT", "/v1/expression/recipes/{uuidOrShortId}/archive")(archive_recipe)
    r("POST", "/v1/expression/favoriteRecipes")(create_favorite)
    r("DELETE", "/v1/expression/favoriteRecipes/{recipeUuid}/")(delete_favorite)
    r("DELETE", "/v1/expression/favoriteRecipes/{recipeUuid}")(delete_favorite)


# -- seed ------------------------------------------------------------------------------
BUILT_IN = (
    ("Clean domain", "cleaning", "jsExpression",
     "String(website || '').toLowerCase().replace('https://', '').replace('http://', '').replace('www.', '')"
     ".split('/')[0]", "The bare domain of a website address.",
     [{"kind": "string", "slug": "website", "name": "Website"}]),
    ("Full name", "copywriting", "templateExpression", "{{firstName}} {{lastName}}",
     "First and last name, joined.",
     [{"kind": "string", "slug": "firstName", "name": "First name"},
      {"kind": "string", "slug": "lastName", "name": "Last name"}]),
    ("Company size", "classification", "jsExpression",
     "Number(employees) >= 1000 ? 'enterprise' : Number(employees) >= 100 ? 'mid-market' : 'smb'",
     "Enterprise, mid-market or SMB from an employee count.",
     [{"kind": "number", "slug": "employees", "name": "Employees"}]),
)  # fmt: skip


def seed_expression(db: Database, workspace_uuid: str, _rng: random.Random) -> None:
    """The platform's public recipes, one recipe of the workspace and the admin's favourite."""
    rng = random.Random("cargo-shell-expression-seed")
    stamp = db.scalar("SELECT created_at FROM workspaces WHERE uuid = ?", (workspace_uuid,))
    admin = db.scalar("SELECT value FROM sandbox_meta WHERE key = 'admin_user_uuid'") or ""
    entries: list[tuple[Any, ...]] = [(None, PLATFORM_USER, 1, *item) for item in BUILT_IN]
    entries.append((workspace_uuid, admin, 0, "Lead tier", "sales", "jsExpression",
                    "score >= 40 ? 'hot' : 'cold'", "Hot or cold from a lead score.",
                    [{"kind": "number", "slug": "score", "name": "Score"}]))  # fmt: skip
    for ws, user, public, name, category, kind, source, description, placeholders in entries:
        uuid = new_uuid(rng)
        _insert(db, {"uuid": uuid, "version": 1, "short_id": uuid.replace("-", "")[:10], "workspace_uuid": ws,
                     "user_uuid": user, "name": name, "description": description, "category": category,
                     "kind": kind, "instruct_to": "none", "expression": source, "placeholders": dumps(placeholders),
                     "is_public": public, "created_at": stamp})  # fmt: skip
    if (first := db.scalar("SELECT uuid FROM expr_recipes WHERE name = 'Clean domain'")) is not None:
        db.execute("INSERT INTO expr_favorites VALUES (?, ?, ?, ?, NULL)", (workspace_uuid, admin, first, stamp))
