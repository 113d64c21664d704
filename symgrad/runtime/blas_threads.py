"""Fewer BLAS threads in this process while its kernels compile in the background.

The interpreter's matrix products run on NumPy's OpenBLAS, whose threads keep their
cores busy between calls; a compile worker started next to them gets what is left.
On a two-core machine the digits step reached its kernel after 11.5 s with two BLAS
threads and 8.1 s with one.  So while any background compile of this process runs,
the OpenBLAS of NumPy (the interpreter's) and of SciPy (the kernels' already switched
in: Numba calls BLAS through SciPy) leave a core to each compile worker (one thread on
two cores), and the last compile to finish restores the counts it found.  Without
those bundled libraries (another BLAS, or none found) this does nothing.

Example:
    >>> claim = Hold()       # a background compile starts
    >>> claim.release()      # its kernel is ready: the BLAS threads are as they were
"""

from __future__ import annotations

import ctypes
import functools
import importlib.util
import os
import threading
import weakref
from collections.abc import Callable
from pathlib import Path

_LOCK = threading.Lock()
_HOLDERS = [0]
_SAVED: list[int] = []  # per library, the thread count found when the first holder came
Controls = tuple[Callable[[], int], Callable[[int], None]]


def _bundled_openblas(package: str) -> list[Path]:
    """The OpenBLAS libraries a wheel of ``package`` bundles (found without importing it)."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        return []
    folder = Path(spec.origin).resolve().parent
    return [
        *(folder.parent / f"{package}.libs").glob("*openblas*"),
        *folder.glob(".dylibs/*openblas*"),
    ]


@functools.cache
def _controls() -> tuple[Controls, ...]:
    """(get, set) of each OpenBLAS bundled with NumPy (the interpreter's matrix products)
    and SciPy (the kernels': Numba calls BLAS through SciPy)."""
    found = []
    for path in sorted({*_bundled_openblas("numpy"), *_bundled_openblas("scipy")}):
        try:
            library = ctypes.CDLL(str(path))  # NumPy's or SciPy's own copy: the same handle
        except OSError:
            continue
        for prefix, suffix in (("scipy_openblas", "64_"), ("scipy_openblas", ""), ("openblas", "")):
            get = getattr(library, f"{prefix}_get_num_threads{suffix}", None)
            put = getattr(library, f"{prefix}_set_num_threads{suffix}", None)
            if get is not None and put is not None:
                get.restype, put.argtypes = ctypes.c_int, [ctypes.c_int]
                found.append((get, put))
                break
    return tuple(found)


def _spare_threads(found: int) -> int:
    from symgrad.runtime.worker_pool import WORKERS

    return max(1, min(found, (os.cpu_count() or 1) - WORKERS))


def _acquire() -> None:
    controls = _controls()
    with _LOCK:
        _HOLDERS[0] += 1
        if _HOLDERS[0] == 1:
            _SAVED[:] = [get() for get, _ in controls]
            for (_, put), found in zip(controls, _SAVED, strict=True):
                put(_spare_threads(found))


def _release_one() -> None:
    controls = _controls()
    with _LOCK:
        _HOLDERS[0] -= 1
        if _HOLDERS[0] == 0:
            for (_, put), found in zip(controls, _SAVED, strict=True):
                if found > 0:
                    put(found)


class Hold:
    """One background compile's claim on the cores; released once, by :meth:`release` or
    when the claim is collected."""

    def __init__(self) -> None:
        _acquire()
        self._release = weakref.finalize(self, _release_one)

    def release(self) -> None:
        self._release()
