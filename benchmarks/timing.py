"""Timing helpers: best of several repeats, in CPU time of the calling thread and in wall time.

These machines are shared: other processes slow a run down by a factor that changes from
second to second. The CPU time of the calling thread (``time.thread_time``) counts only this
thread's work, so it measures per-core throughput even on a busy machine (it still includes
cache and memory-bandwidth contention). Multi-threaded measurements can only use wall time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass


@dataclass(frozen=True)
class Timing:
    """Best time of a call [s]: CPU time of the calling thread and wall time (separate bests)."""

    cpu: float
    wall: float


def best_of(fn: Callable[[], object], repeat: int = 5) -> Timing:
    """Run ``fn`` ``repeat`` times; best CPU and wall time."""
    cpu = wall = float("inf")
    for _ in range(repeat):
        c0, w0 = time.thread_time(), time.perf_counter()
        fn()
        cpu = min(cpu, time.thread_time() - c0)
        wall = min(wall, time.perf_counter() - w0)
    return Timing(cpu, wall)


def threaded_wall(tasks: list[Callable[[], object]], threads: int, repeat: int = 3) -> float:
    """Best wall time [s] to run all ``tasks`` on a pool of ``threads`` threads."""
    best = float("inf")
    for _ in range(repeat):
        with ThreadPoolExecutor(threads) as pool:
            start = time.perf_counter()
            for future in [pool.submit(task) for task in tasks]:
                future.result()
            best = min(best, time.perf_counter() - start)
    return best


def fmt_rate(value: float) -> str:
    """A rate as 1.23e+06."""
    return f"{value:.3g}"
