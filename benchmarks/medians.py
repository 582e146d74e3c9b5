"""How the timing benchmarks print a series: median, min and max per label, one line each."""

from __future__ import annotations

import statistics


def print_medians(name: str, width: int, series: dict[str, list[float]], runs: int) -> tuple[float, ...]:
    """Print ``name label median … min … max …`` for each series (milliseconds); their medians, in order."""
    for label, values in series.items():
        print(
            f"{name:<{width}} {label:<{max(len(k) for k in series)}} median {statistics.median(values):7.1f} ms"
            f"   min {min(values):7.1f}   max {max(values):7.1f}   ({runs} runs)"
        )
    return tuple(statistics.median(values) for values in series.values())
