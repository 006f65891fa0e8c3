"""Timing several LiteRT models in turn, so that every one sees the same machine load."""

from __future__ import annotations

import statistics
import time


def round_robin_median_ms(models: dict, x, runs: int) -> dict[str, float]:
    """Label -> median milliseconds of `model.run(x)` over `runs` rounds, one warm-up each."""
    times = {label: [] for label in models}
    for model in models.values():
        model.run(x)
    for _ in range(runs):
        for label, model in models.items():
            start = time.perf_counter()
            model.run(x)
            times[label].append((time.perf_counter() - start) * 1000)
    return {label: statistics.median(values) for label, values in times.items()}
