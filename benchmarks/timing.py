"""Timing helpers every benchmark script shares: medians of repeats, the BLAS in use.

The scripts run as ``python benchmarks/<script>.py``, so this folder is on ``sys.path`` and
``from timing import …`` finds this module.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from typing import Any

OPENBLAS_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def median_seconds(
    fn: Callable[[], Any],
    repeats: int,
    *,
    warm_up: bool = True,
    before: Callable[[], Any] | None = None,
) -> float:
    """Median wall time of ``fn``; ``before`` runs untimed ahead of each call (e.g. a cache
    clear), and the warm-up call is skipped when a cold first call is what is measured."""
    if warm_up:
        fn()
    times = []
    for _ in range(repeats):
        if before is not None:
            before()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def median_interleaved(fns: dict[str, Callable[[], Any]], repeats: int) -> dict[str, float]:
    """Median wall time of each function, the runs interleaved so drift hits all alike."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for fn in fns.values():  # warm-up
        fn()
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def blas_info() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "BLAS: threadpoolctl not installed (pip install threadpoolctl to show the kernel)"
    parts = [
        f"{i.get('internal_api')} {i.get('version')} {i.get('architecture')} "
        f"threads={i.get('num_threads')}"
        for i in threadpool_info()
    ]
    return "BLAS: " + "; ".join(parts)


def print_numpy_header() -> None:
    """The NumPy and BLAS in use, and a note for each OpenBLAS variable that slows them."""
    import numpy as np

    print(f"NumPy {np.__version__}; {blas_info()}")
    for variable in OPENBLAS_VARIABLES:
        if variable in os.environ:
            print(f"note: {variable}={os.environ[variable]} is set (slows a current NumPy)")
