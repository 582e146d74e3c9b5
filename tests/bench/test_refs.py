"""The value language of task files: paths, pipes, templates and arithmetic."""

from __future__ import annotations

import pytest

from cargo_shell.bench.refs import RefError, calc, get_path, render, scope_resolver

DATA = {
    "segments": [
        {"name": "Hot leads", "modelUuid": "m1", "recordsCount": 232, "createdAt": "2025-01-02"},
        {"name": "Founders", "modelUuid": "m1", "recordsCount": 39, "createdAt": "2025-03-01"},
        {"name": "Gold", "modelUuid": "m2", "recordsCount": 126, "createdAt": "2025-02-01", "extra": None},
    ],
    "invoices": [
        {"amount": 13900, "isPaid": True},
        {"amount": 9900, "isPaid": True},
        {"amount": 13100, "isPaid": False},
    ],
    "metrics": [{"items": [{"count": 1.5}, {"count": 2}]}, {"items": []}, {"items": [{"count": 3}]}],
    "ddl": "CREATE TABLE datasets_crm.models_contacts (\n  _id TEXT)",
}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("segments[0].name", "Hot leads"),
        ("segments[-1].name", "Gold"),
        ("segments[name=Founders].recordsCount", 39),
        ("segments[modelUuid!=m1].name", "Gold"),
        ("segments[?modelUuid=m1][*].name", ["Hot leads", "Founders"]),
        ("segments[extra=null].name", "Hot leads"),
        ("segments|len", 3),
        ("segments[*].recordsCount|sum", 397),
        ("segments[*].recordsCount|max", 232),
        ("segments|maxby:recordsCount|get:name", "Hot leads"),
        ("segments|maxby:createdAt|get:name", "Founders"),
        ("segments|minby:recordsCount|get:name", "Founders"),
        ("invoices[?isPaid=true][*].amount|sum|div:100", 238),
        ("invoices[isPaid=false].amount|div:100", 131),
        ("metrics[*].items[*].count|sum", 6.5),
        ("ddl|match:CREATE TABLE (\\S+)", "datasets_crm.models_contacts"),
        ("segments[0]|keys|len", 4),
        ("segments[1].recordsCount|mul:2", 78),
        ("invoices[0].amount|div:3|round:2", 4633.33),
        ("", DATA),
    ],
)
def test_paths(path: str, expected: object) -> None:
    assert get_path(DATA, path) == expected


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("segments[name=Nope].uuid", "no item with name=Nope"),
        ("segments[7]", "index 7 is out of range (the list has 3 items)"),
        ("segments[0].uuid", "no field 'uuid'"),
        ("segments[0].name[0]", "[0] needs a list"),
        ("segments|frobnicate", "unknown function |frobnicate"),
        ("segments[*].name|sum", "|sum needs numbers"),
        ("ddl|match:DROP (\\w+)", "|match:DROP"),
        ("segments[name]", "bad selector [name]"),
    ],
)
def test_paths_that_do_not_resolve_say_why(path: str, message: str) -> None:
    with pytest.raises(RefError) as caught:
        get_path(DATA, path)
    assert message in str(caught.value)


def test_templates_keep_types_interpolate_nest_and_compute() -> None:
    resolve = scope_resolver({"d": DATA, "model": "m2", "n": 2.0})
    assert render("${d.segments[0].recordsCount}", resolve) == 232
    assert render("${d.segments[?modelUuid=m1][*].name}", resolve) == ["Hot leads", "Founders"]
    assert render("There are ${d.segments|len} segments", resolve) == "There are 3 segments"
    assert render("${d.segments[modelUuid=${model}].name}", resolve) == "Gold"
    assert render("n is ${n}", resolve) == "n is 2"
    assert render("${=${d.segments[0].recordsCount} - ${d.segments[1].recordsCount}}", resolve) == 193
    assert render({"a": ["${model}", 1], "b": "plain"}, resolve) == {"a": ["m2", 1], "b": "plain"}


def test_templates_name_what_is_missing() -> None:
    resolve = scope_resolver({"d": DATA})
    with pytest.raises(RefError, match="'seg' is not defined here"):
        render("${seg.x}", resolve)
    with pytest.raises(RefError, match="unclosed"):
        render("${d.segments", resolve)


def test_calc_allows_arithmetic_only() -> None:
    assert calc("10000 - 33.5") == 9966.5
    assert calc("(2 + 3) * 4 / 5") == 4
    assert calc("-1 + 2") == 1
    for bad in ("__import__('os')", "2 ** 10", "a + 1", "1 +"):
        with pytest.raises(RefError):
            calc(bad)
    with pytest.raises(RefError, match="division by zero"):
        calc("1 / 0")
