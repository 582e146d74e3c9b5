"""Expression commands: evaluation with the sandbox's own expression engine, recipes and favourites."""

from __future__ import annotations

from typing import Any

import pytest

from tests.every_command.world import Cases, World

cases = Cases()


def expr(kind: str, text: str, **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "expression": text, "instructTo": "none", "fromRecipe": False, **extra}


@cases.add("expression expression evaluate")
def _evaluate(w: World) -> None:
    start = {"nodes": {"start": {"domain": "Acme.io", "employees": 2600}}}
    js = w.data(
        "expression expression evaluate",
        {"expression": expr("jsExpression", "nodes.start.employees / 100 + 4"), "variables": start},
    )
    assert js == {"data": 30}
    text = w.data(
        "expression expression evaluate",
        {
            "expression": expr(
                "templateExpression", "{{nodes.start.domain.toLowerCase()}} has {{nodes.start.employees}}"
            ),
            "variables": start,
        },
    )
    assert text == {"data": "acme.io has 2600"}
    broken = w.data(
        "expression expression evaluate", {"expression": expr("jsExpression", "nodes.start.("), "variables": start}
    )
    assert set(broken) == {"errorMessage"} and broken["errorMessage"]
    clean = next(r for r in w.items("expression recipe list") if r["name"] == "Clean domain")
    from_recipe = expr(
        "jsExpression",
        clean["expression"],
        fromRecipe=True,
        recipe={"uuid": clean["uuid"], "version": 1, "variables": {"website": "https://www.Acme.io/x"}},
    )
    assert w.data("expression expression evaluate", {"expression": from_recipe, "variables": {}}) == {"data": "acme.io"}
    ai = expr("templateExpression", "Summarise {{company}}", instructTo="ai")
    w.unavailable("expression expression evaluate", {"expression": ai, "variables": {}})


@cases.add("expression expression generate")
def _generate(w: World) -> None:
    error = w.unavailable("expression expression generate", {"prompt": "the domain of the email", "variables": {}})
    assert "language model" in error.message


@cases.add(
    "expression recipe create",
    "expression recipe get",
    "expression recipe get-last-version",
    "expression recipe create-new-version",
    "expression recipe list",
    "expression recipe archive",
)
def _recipes(w: World) -> None:
    body = {
        "name": "Seats bucket",
        "description": "Small or large",
        "category": "classification",
        "expression": "seats >= 50 ? 'large' : 'small'",
        "is-public": False,
        "placeholders": [{"kind": "number", "slug": "seats", "name": "Seats"}],
    }
    recipe = w.item("expression recipe create", {**body, "kind": "jsExpression", "instruct-to": "none"})
    assert (recipe["version"], recipe["workspaceUuid"], recipe["isFavorite"]) == (1, w.box.workspace_uuid, False)
    assert recipe["userFirstName"] == w.admin["firstName"]
    by_short = w.item("expression recipe get", {"uuid-or-short-id": recipe["shortId"], "version": "1"})
    assert by_short["uuid"] == recipe["uuid"]
    v2 = w.item(
        "expression recipe create-new-version",
        {**body, "uuid": recipe["uuid"], "expression": "seats >= 100 ? 'large' : 'small'"},
    )
    assert (v2["uuid"], v2["shortId"], v2["version"]) == (recipe["uuid"], recipe["shortId"], 2)
    last = w.item("expression recipe get-last-version", {"uuid-or-short-id": recipe["uuid"]})
    assert (last["version"], last["expression"]) == (2, "seats >= 100 ? 'large' : 'small'")
    old = w.item("expression recipe get", {"uuid-or-short-id": recipe["uuid"], "version": "1"})
    assert old["expression"] == body["expression"]
    mine = w.items("expression recipe list", {"tab": "workspace", "name": "seats"})
    assert [(r["uuid"], r["version"]) for r in mine] == [(recipe["uuid"], 2)]
    public = w.items("expression recipe list", {"categories": ["cleaning"]})
    assert {r["name"] for r in public} >= {"Clean domain"} and all(r["isPublic"] for r in public)
    w.run("expression recipe archive", {"uuid-or-short-id": recipe["uuid"]})
    assert recipe["uuid"] not in {r["uuid"] for r in w.items("expression recipe list")}
    assert w.item("expression recipe get-last-version", {"uuid-or-short-id": recipe["uuid"]})["archivedAt"]
    w.gone("expression recipe get", {"uuid-or-short-id": recipe["uuid"], "version": "3"})


@cases.add("expression favorite-recipe create", "expression favorite-recipe remove")
def _favorites(w: World) -> None:
    size = next(r for r in w.items("expression recipe list") if r["name"] == "Company size")
    assert size["isFavorite"] is False
    w.run("expression favorite-recipe create", {"recipe-uuid": size["uuid"]})
    favorites = w.items("expression recipe list", {"tab": "favorites"})
    assert size["uuid"] in {r["uuid"] for r in favorites} and all(r["isFavorite"] for r in favorites)
    w.run("expression favorite-recipe remove", {"recipe-uuid": size["uuid"]})
    assert size["uuid"] not in {r["uuid"] for r in w.items("expression recipe list", {"tab": "favorites"})}
    again = w.fails("expression favorite-recipe remove", {"recipe-uuid": size["uuid"]}, 400)
    assert again.reason == "alreadyArchived"
    unknown = w.fails("expression favorite-recipe remove", {"recipe-uuid": "00000000-0000-4000-8000-000000000bad"}, 404)
    assert unknown.reason == "recipeNotFound"


@pytest.mark.parametrize("name", cases.names())
def test_command(name: str, world: World) -> None:
    cases.check(name, world)
