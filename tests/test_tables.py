"""Tables show the columns a person wants: names first, UUID and dates last, short timestamps."""

from __future__ import annotations

import io

from rich.console import Console

from cargo_shell.render.tables import build_table, find_rows, pick_columns


def render(rows: list[dict[str, object]]) -> str:
    console = Console(file=io.StringIO(), width=120, color_system=None)
    console.print(build_table(rows))
    return console.file.getvalue()  # type: ignore[attr-defined,no-any-return]


def test_names_before_uuids_and_nested_values_skipped() -> None:
    rows = [{"uuid": "u1", "config": {"x": 1}, "status": "success", "name": "Enrich", "createdAt": "x"}]
    assert pick_columns(rows) == ["name", "status", "uuid", "createdAt"]


def test_find_rows_prefers_response_key_then_the_only_list() -> None:
    data = {"models": [{"name": "A"}], "count": 1}
    assert find_rows(data, "models") == [{"name": "A"}]
    assert find_rows(data) == [{"name": "A"}]
    assert find_rows({"batch": {"uuid": "b"}}, "batch") == [{"uuid": "b"}]
    assert find_rows({"n": 1}) is None


def test_render_shortens_timestamps_and_counts_rows() -> None:
    text = render(
        [
            {"name": "Companies", "uuid": "3843249c", "createdAt": "2026-09-30T16:09:09.035Z", "isCustomer": True},
            {"name": "Contacts", "uuid": "b9c17836", "createdAt": "2026-09-30T16:10:00Z", "isCustomer": False},
        ]
    )
    assert "2026-09-30 16:09" in text and "T16:09" not in text
    assert text.index("Companies") < text.index("Contacts")
    assert "yes" in text and "no" in text
    assert "2 rows" in text


def test_a_list_of_names_under_the_response_key_is_a_one_column_table() -> None:
    data = {"columns": ["domain", "name"]}
    assert find_rows(data, "columns") == [{"columns": "domain"}, {"columns": "name"}]
    text = render(find_rows(data, "columns") or [])
    assert "domain" in text and "name" in text and "2 rows" in text
