"""Trimming large results for the model's context."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from cargo_shell.agent.trimming import trim_for_model


def _rows(n: int) -> list[dict[str, object]]:
    return [{"uuid": f"u{i}", "name": f"row {i}", "notes": "x" * 300, "nested": {"a": i}} for i in range(n)]


def test_small_results_pass_through_untouched() -> None:
    data = {"segments": _rows(3)}
    assert trim_for_model(data) == (data, False)


def test_large_lists_keep_first_rows_counts_and_identifiers() -> None:
    data = {"records": _rows(500), "count": 500}
    trimmed, was = trim_for_model(data, budget=8_000)
    assert was
    rows = trimmed["records"]
    marker = rows[-1]
    assert rows[0]["uuid"] == "u0" and trimmed["count"] == 500
    assert marker["_trimmed"].endswith("(500 in total)")
    assert marker["more"][0] == {"uuid": f"u{len(rows) - 1}", "name": f"row {len(rows) - 1}"}
    assert marker["more_not_listed"] + len(marker["more"]) + len(rows) - 1 == 500
    assert len(json.dumps(trimmed, separators=(",", ":"))) <= 8_000


def test_long_strings_are_cut_with_their_length() -> None:
    trimmed, was = trim_for_model({"ddl": "y" * 20_000}, budget=1_000)
    assert was and trimmed["ddl"].startswith("yyy") and "chars)" in trimmed["ddl"]


def test_hopeless_results_become_a_bounded_preview() -> None:
    data = {f"k{i}": i for i in range(5_000)}
    trimmed, was = trim_for_model(data, budget=500)
    assert was and trimmed["_trimmed"].startswith("result too large") and len(trimmed["preview"]) <= 500


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=400),
    lambda inner: st.lists(inner, max_size=60) | st.dictionaries(st.text(max_size=8), inner, max_size=8),
    max_leaves=300,
)


@settings(max_examples=80, deadline=None)
@given(json_values)
def test_trimmed_results_always_fit_the_budget(data: object) -> None:
    trimmed, was = trim_for_model(data, budget=2_000)
    size = len(json.dumps(trimmed, ensure_ascii=False, separators=(",", ":")))
    if was:
        assert size <= 2_000
    else:
        assert trimmed == data


def test_old_tool_results_are_elided_when_the_history_grows() -> None:
    from cargo_shell.agent.trimming import ELIDED, fit_context

    history: list[dict[str, object]] = [{"role": "system", "content": "s"}]
    for i in range(10):
        history.append({"role": "user", "content": f"q{i}"})
        history.append({"role": "tool", "tool_call_id": f"c{i}", "content": "r" * 1_000})
    kept = fit_context(history, budget=6_000, keep_last=4)
    assert kept is not history and len(kept) == len(history)
    assert kept[2]["content"] == ELIDED and kept[-1]["content"] == "r" * 1_000
    assert [m["content"] for m in kept if m["role"] == "user"] == [f"q{i}" for i in range(10)]
    assert history[2]["content"] == "r" * 1_000  # the conversation itself is untouched
    assert len(json.dumps(kept)) <= 6_500
    assert fit_context(history, budget=10**6) is history
