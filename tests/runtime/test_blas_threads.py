"""NumPy's BLAS leaves a core to each compile worker while kernels compile in the background."""

from __future__ import annotations

import gc
import os
import time

import numpy as np

import symgrad as sg
from symgrad.runtime import blas_threads
from symgrad.runtime.worker_pool import WORKERS


def _threads() -> list[int]:
    return [get() for get, _ in blas_threads._controls()]


def test_claims_nest_and_the_last_one_restores_the_count():
    before = _threads()
    first = blas_threads.Hold()
    held = _threads()
    second = blas_threads.Hold()
    first.release()
    first.release()  # a claim is released once
    assert _threads() == held
    del second
    gc.collect()  # a claim nobody holds is released
    assert _threads() == before
    # NumPy's and SciPy's wheels bundle OpenBLAS: both found and changed
    assert len(before) == 2
    assert held == [max(1, min(n, (os.cpu_count() or 1) - WORKERS)) for n in before]


def test_a_background_kernel_gives_the_threads_back_once_it_is_ready(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMGRAD_CACHE_DIR", str(tmp_path))
    before = _threads()
    f = sg.compile(lambda a, b: (a @ b).tanh().sum(), tier="background")
    a, b = np.ones((4, 3)), np.ones((3, 2))
    f(a, b)
    deadline = time.monotonic() + 120
    while f.status(a, b) != "kernel" and time.monotonic() < deadline:
        f(a, b)
        time.sleep(0.01)
    assert f.status(a, b) == "kernel"
    assert _threads() == before
