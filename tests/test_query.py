"""Query encoding matches the official client's Axios conventions."""

from __future__ import annotations

from cargo_shell.api.query import encode_query


def test_nulls_dropped_and_scalars_encoded() -> None:
    assert encode_query({"a": None, "b": 1, "c": True, "d": "x y"}) == "b=1&c=true&d=x+y"


def test_top_level_arrays_use_empty_brackets() -> None:
    assert encode_query({"ids": ["a", "b", None]}) == "ids%5B%5D=a&ids%5B%5D=b"


def test_nested_objects_and_indexed_arrays() -> None:
    assert encode_query({"filter": {"x": 1, "tags": ["p", "q"]}}) == (
        "filter%5Bx%5D=1&filter%5Btags%5D%5B0%5D=p&filter%5Btags%5D%5B1%5D=q"
    )


def test_colon_dollar_comma_stay_literal() -> None:
    assert encode_query({"q": "a:b$c,d/e&f"}) == "q=a:b$c,d%2Fe%26f"


def test_unreserved_marks_like_encode_uri_component() -> None:
    assert encode_query({"q": "it's (ok)!*~"}) == "q=it's+(ok)!*~"


def test_empty() -> None:
    assert encode_query({}) == ""
