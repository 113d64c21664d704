"""``sg_gemm``, the matrix product kernels call: NumPy's BLAS where its library has the
symbols, ``np.dot`` otherwise, NumPy in plain Python; each checked against NumPy for
every layout a kernel passes, and a kernel's cached machine code finds the library
again in a new process."""

from __future__ import annotations

import itertools
import subprocess
import sys

import numpy as np
import pytest
from numba import njit
from numba.core.errors import TypingError

from symgrad.compiler import blas


@njit
def by_cblas(a, b, out, beta):
    blas.sg_cblas_gemm(a, b, out, beta)


@njit
def by_dot(a, b, out, beta):
    blas.sg_gemm_dot(a, b, out, beta)


def layouts(rows: int, cols: int, dtype, rng) -> list[np.ndarray]:
    """A C-contiguous matrix and the same values as the ``.T`` of one (F-contiguous)."""
    base = rng.standard_normal((rows, cols)).astype(dtype)
    return [base, np.ascontiguousarray(base.T).T]


def check(product, dtype, shape: tuple[int, int, int], beta: float, rng) -> None:
    m, k, n = shape
    for a, b in itertools.product(layouts(m, k, dtype, rng), layouts(k, n, dtype, rng)):
        before = rng.standard_normal((m, n)).astype(dtype)
        out = before.copy() if beta else np.full((m, n), np.nan, dtype)  # beta 0: ignored
        product(a, b, out, beta)
        want = a.astype(np.float64) @ b.astype(np.float64) + beta * before
        tol = 1e-5 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(out, want, rtol=tol, atol=tol)


SHAPES = [(3, 4, 5), (1, 4, 5), (3, 1, 5), (3, 4, 1), (1, 1, 1), (0, 3, 2), (3, 0, 2)]


@pytest.mark.skipif(not blas.SG_CBLAS, reason="NumPy's BLAS has no cblas_?gemm64_ here")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numpys_blas_multiplies_every_layout_and_accumulates(dtype):
    rng = np.random.default_rng(0)
    for shape, beta in itertools.product(SHAPES, (0.0, 1.0, 0.5)):
        check(by_cblas, dtype, shape, beta, rng)


def test_the_fallback_multiplies_as_well():
    rng = np.random.default_rng(1)
    for shape, beta in itertools.product(SHAPES[:3], (0.0, 0.5)):
        check(by_dot, np.float64, shape, beta, rng)


def test_numpys_own_openblas_is_the_one_kernels_call():
    config = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    if config.get("name") != "scipy-openblas" or "64" not in str(config.get("include directory")):
        pytest.skip(f"NumPy is built with {config.get('name')}, not its bundled OpenBLAS")
    assert blas.SG_CBLAS == "scipy_cblas_?gemm64_"


def test_called_from_python_it_is_numpys_product():
    a, b, out = np.arange(6.0).reshape(2, 3), np.ones((2, 3)), np.ones((2, 2))
    blas.sg_gemm(a, b.T, out, 2.0)  # as a kernel's py_func calls it
    np.testing.assert_array_equal(out, a @ b.T + 2.0)


@pytest.mark.skipif(not blas.SG_CBLAS, reason="NumPy's BLAS has no cblas_?gemm64_ here")
def test_bad_shapes_raise_and_bad_layouts_fail_to_compile():
    with pytest.raises(ValueError, match="shapes of a, b and out do not match"):
        by_cblas(np.ones((2, 3)), np.ones((4, 2)), np.ones((2, 2)), 0.0)
    with pytest.raises(TypingError, match="C- or F-contiguous"):
        by_cblas(np.ones((2, 4))[:, ::2], np.ones((2, 2)), np.ones((2, 2)), 0.0)
    with pytest.raises(TypingError, match="one dtype"):
        by_cblas(np.ones((2, 2), np.float32), np.ones((2, 2)), np.ones((2, 2)), 0.0)


def test_a_cached_kernel_links_to_the_library_in_a_new_process(tmp_path):
    code = (
        "import gc, numpy as np, symgrad as sg\n"
        "from symgrad.compiler.build import Kernel\n"
        "a = np.arange(6.0, dtype=np.float32).reshape(2, 3)\n"
        "b = np.arange(12.0, dtype=np.float32).reshape(3, 4)\n"
        "f = sg.compile(lambda a, b: a @ b, tier='sync')\n"
        "error = np.abs(f(a, b).numpy() - a @ b).max()\n"
        "kernels = [k for k in gc.get_objects() if isinstance(k, Kernel)]\n"
        "hits = sum(sum(k.fn.stats.cache_hits.values()) for k in kernels)\n"
        "print(error, 'sg_gemm(' in kernels[0].source, hits)\n"
    )
    env = {"SYMGRAD_CACHE_DIR": str(tmp_path), "PATH": "", "HOME": str(tmp_path)}
    runs = [
        subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        for _ in range(2)  # the first compiles, the second loads the machine code
    ]
    for run in runs:
        assert run.returncode == 0, run.stderr
    results = [run.stdout.split() for run in runs]
    assert [r[:2] for r in results] == [["0.0", "True"]] * 2
    assert [int(r[2]) for r in results] == [0, 1]  # compiled, then loaded from the cache
