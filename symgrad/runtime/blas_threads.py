"""Fewer BLAS threads in this process while its kernels compile in the background.

The interpreter's matrix products run on NumPy's OpenBLAS, whose threads keep their
cores busy between calls; a compile worker started next to them gets what is left.
On a two-core machine the digits step reached its kernel after 11.5 s with two BLAS
threads and 8.1 s with one.  So while any background compile of this process runs,
NumPy's OpenBLAS leaves a core to each compile worker (one thread on two cores), and
the last one to finish restores the count it found.  Without NumPy's bundled OpenBLAS
(another BLAS, or its library not found) this does nothing.

Example:
    >>> claim = Hold()       # a background compile starts
    >>> claim.release()      # its kernel is ready: the BLAS threads are as they were
"""

from __future__ import annotations

import ctypes
import functools
import os
import threading
import weakref
from collections.abc import Callable
from pathlib import Path

import numpy as np

_LOCK = threading.Lock()
_HOLDERS = [0]
_SAVED = [0]  # the thread count found when the first holder came


@functools.cache
def _controls() -> tuple[Callable[[], int], Callable[[int], None]] | None:
    """(get, set) of the OpenBLAS bundled with NumPy's wheels, or None."""
    package = Path(np.__file__).resolve().parent
    candidates = [
        *(package.parent / "numpy.libs").glob("*openblas*"),
        *package.glob(".dylibs/*openblas*"),
    ]
    for path in sorted(candidates):
        try:
            library = ctypes.CDLL(str(path))  # already loaded by NumPy: the same handle
        except OSError:
            continue
        for prefix, suffix in (("scipy_openblas", "64_"), ("scipy_openblas", ""), ("openblas", "")):
            get = getattr(library, f"{prefix}_get_num_threads{suffix}", None)
            put = getattr(library, f"{prefix}_set_num_threads{suffix}", None)
            if get is not None and put is not None:
                get.restype, put.argtypes = ctypes.c_int, [ctypes.c_int]
                return get, put
    return None


def _spare_threads(found: int) -> int:
    from symgrad.runtime.worker_pool import WORKERS

    return max(1, min(found, (os.cpu_count() or 1) - WORKERS))


def _acquire() -> None:
    controls = _controls()
    with _LOCK:
        _HOLDERS[0] += 1
        if _HOLDERS[0] == 1 and controls is not None:
            get, put = controls
            _SAVED[0] = get()
            put(_spare_threads(_SAVED[0]))


def _release_one() -> None:
    controls = _controls()
    with _LOCK:
        _HOLDERS[0] -= 1
        if _HOLDERS[0] == 0 and controls is not None and _SAVED[0] > 0:
            controls[1](_SAVED[0])


class Hold:
    """One background compile's claim on the cores; released once, by :meth:`release` or
    when the claim is collected."""

    def __init__(self) -> None:
        _acquire()
        self._release = weakref.finalize(self, _release_one)

    def release(self) -> None:
        self._release()
