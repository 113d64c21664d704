"""Shared benchmark helpers: interleaved timing, medians, the machine line, Markdown tables."""

from __future__ import annotations

import gc
import os
import platform
import statistics
import time
from collections.abc import Callable

import numpy as np

# Steady-state timings: every kernel is compiled before its first call returns (the time
# a user waits for the first step is measured separately, in a fresh process).
os.environ.setdefault("SYMGRAD_COMPILE", "sync")


def machine() -> str:
    """One line naming the machine and the library versions."""
    import numba
    import torch

    import symgrad

    parts = [
        platform.platform(),
        f"Python {platform.python_version()}",
        f"{os.cpu_count()} logical CPUs",
        f"numpy {np.__version__}",
        f"numba {numba.__version__}",
        f"torch {torch.__version__}",
        f"symgrad {symgrad.__version__}",
    ]
    try:
        import jax

        parts.append(f"jax {jax.__version__}")
    except ImportError:
        pass
    return ", ".join(parts)


def interleaved_samples(
    contenders: dict[str, Callable[[], object]], repeats: int, number: int
) -> dict[str, list[float]]:
    """Seconds per call of each contender, one sample per repeat, timed in rotating order.

    Each repeat times ``number`` calls of every contender (order rotated each
    repeat, garbage collection off) so that noise hits all of them alike.
    """
    names = list(contenders)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            fn = contenders[name]
            gc.collect()
            gc.disable()
            start = time.perf_counter()
            for _ in range(number):
                fn()
            elapsed = time.perf_counter() - start
            gc.enable()
            samples[name].append(elapsed / number)
    return samples


def interleaved_medians(
    contenders: dict[str, Callable[[], object]], repeats: int, number: int
) -> dict[str, float]:
    """Median seconds per call of each contender (see :func:`interleaved_samples`)."""
    samples = interleaved_samples(contenders, repeats, number)
    return {name: statistics.median(values) for name, values in samples.items()}


def table(rows: list[tuple[str, str, float, float]], reference: str = "PyTorch eager") -> str:
    """Markdown rows of (workload, contender, median µs, ratio to ``reference``)."""
    lines = [f"| workload | contender | median µs | × {reference} |", "|---|---|---:|---:|"]
    lines += [f"| {w} | {c} | {t * 1e6:,.1f} | {r:.2f} |" for w, c, t, r in rows]
    return "\n".join(lines)
