"""Tables show the columns a person wants: names first, UUID and dates last, short timestamps."""

from __future__ import annotations

import io

import pytest
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


def _batch(uuid: str, runs: int, failed: int, credits: float, day: int) -> dict[str, object]:
    return {
        "uuid": uuid,
        "workspaceUuid": "470592f8-c435-4604-966d-da7a5799b3da",
        "workflowUuid": "9e12955c-7cdb-40d0-be50-cc9f01d9fa3c",
        "userUuid": "4fe954a8-f14f-4290-a552-514469518197",
        "releaseUuid": "bfa87253-0382-4235-a71e-4e0f297e7e1a",
        "temporalWorkflowId": f"sandbox-batch-{uuid}",
        "data": {"kind": "segment", "segmentUuid": "3a53ebe1-0bbf-4d74-b4db-9931e932a1d2"},
        "status": "success",
        "runsStatus": "healthy",
        "runsCount": runs,
        "executedRunsCount": runs,
        "failedRunsCount": failed,
        "creditsUsedCount": credits,
        "createdAt": f"2026-11-{day}T23:23:53.204Z",
        "updatedAt": f"2026-11-{day}T23:23:53.204Z",
        "finishedAt": f"2026-11-{day}T23:23:53.204Z",
    }


BATCHES = [
    _batch("520c8456-5b2b-40a5-b71f-720ec32b15aa", 10, 0, 8.0, 30),
    _batch("902c620f-2b4e-4276-9bca-b4bbd7970a86", 9, 2, 14.0, 28),
    _batch("2b8cef0d-cb04-40e0-984a-c3714b851afe", 12, 0, 0.0, 24),
]


@pytest.mark.parametrize("width", [80, 120])
def test_batch_list_reads_well_at_80_and_120_columns(width: int) -> None:
    console = Console(file=io.StringIO(), width=width, color_system=None)
    console.print(build_table(BATCHES, width=width))
    text = console.file.getvalue()  # type: ignore[attr-defined]
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= width
    rows = [line for line in lines if "success" in line]
    assert len(rows) == 3  # one line per batch: no cell wraps onto a second line
    for batch, line in zip(BATCHES, rows, strict=True):
        assert str(batch["uuid"]) in line  # whole UUIDs, ready to copy
    assert "temporalWorkflowId" not in text and "sandbox-batch" not in text
    header = next(line for line in lines if "status" in line)
    assert "failedRuns" in header and "runs" in header
    if width >= 120:
        assert "creditsUsed" in header and "createdAt" in header and "2026-11-30 23:23" in text
