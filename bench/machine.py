"""How fast this machine runs plain Python, so figures from different machines can be compared."""

from __future__ import annotations

import time

LOOP = 3_000_000


def python_reference_s(repeat: int = 3) -> float:
    """Best of `repeat` timings of a fixed pure-Python loop, in seconds.

    The benchmarks' goals are absolute times; on a machine where this takes three times as long,
    every interpreted figure does too. Other processes only ever add time, hence the minimum.
    """
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        total, seen = 0, {}
        for i in range(LOOP):
            total += i
            if not i & 1023:
                seen[i] = str(i)
        best = min(best, time.perf_counter() - start)
    return round(best, 3)
