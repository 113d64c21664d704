"""Every op in tests/support/op_cases.py, checked four ways, and on both tiers.

Eager value vs NumPy; eager gradient vs PyTorch and vs central finite differences
of the NumPy reference; compiled value and gradient vs eager.
"""

from __future__ import annotations

import numpy as np
import pytest
from support.gradcheck import central_differences, eager_grads, tolerances, torch_grads
from support.op_cases import CASES

import symgrad as sg

PARAMS = [
    pytest.param(case, shapes, id=f"{case.name}-{'-'.join(map(str, shapes))}")
    for case in CASES
    for shapes in case.shapes
]


def _upstream(shape, dtype, seed=1):
    return np.random.default_rng(seed).uniform(0.5, 1.5, shape).astype(dtype)


@pytest.mark.parametrize(("case", "shapes"), PARAMS)
def test_float64_against_numpy_torch_and_finite_differences(case, shapes):
    arrays = case.inputs(shapes, np.float64)
    expected = np.asarray(case.ref(*arrays))
    upstream = _upstream(expected.shape, np.float64)

    value, grads = eager_grads(case.fn, arrays, upstream)
    np.testing.assert_allclose(value, expected, rtol=1e-12, atol=1e-14)
    assert value.dtype == np.float64

    torch_value, torch_g = torch_grads(case.fn, arrays, upstream)
    np.testing.assert_allclose(value, torch_value, **tolerances(np.float64))
    for ours, theirs in zip(grads, torch_g, strict=True):
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, **tolerances(np.float64))

    numeric = central_differences(lambda *a: float((case.ref(*a) * upstream).sum()), arrays)
    for ours, fd in zip(grads, numeric, strict=True):
        np.testing.assert_allclose(ours, fd, rtol=1e-6, atol=1e-7)

    compiled = sg.compile(lambda *xs: case.fn(sg, *xs))
    np.testing.assert_allclose(compiled(*arrays).numpy(), value, rtol=1e-14, atol=1e-15)

    weights = sg.tensor(upstream)
    loss = sg.value_and_grad(
        lambda *xs: (case.fn(sg, *xs) * weights).sum(), argnums=tuple(range(len(arrays)))
    )
    loss_value, compiled_grads = loss(*arrays)
    np.testing.assert_allclose(loss_value.item(), float((value * upstream).sum()), rtol=1e-12)
    for c, e in zip(compiled_grads, grads, strict=True):
        np.testing.assert_allclose(c.numpy(), e, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_float32_stays_float32_and_matches_torch(case):
    shapes = case.shapes[-1]
    arrays = case.inputs(shapes, np.float32)
    expected = np.asarray(case.ref(*arrays))
    upstream = _upstream(expected.shape, np.float32)

    value, grads = eager_grads(case.fn, arrays, upstream)
    assert value.dtype == np.float32
    np.testing.assert_allclose(value, expected, **tolerances(np.float32))

    _, torch_g = torch_grads(case.fn, arrays, upstream)
    for ours, theirs in zip(grads, torch_g, strict=True):
        assert ours.dtype == np.float32
        np.testing.assert_allclose(ours, theirs, **tolerances(np.float32))


@pytest.mark.parametrize(("case", "shapes"), PARAMS)
def test_interpreter_tier_matches_kernel_tier(case, shapes, monkeypatch):
    for dtype, tol in ((np.float64, 1e-12), (np.float32, 1e-5)):
        arrays = case.inputs(shapes, dtype)
        upstream = _upstream(np.asarray(case.ref(*arrays)).shape, dtype)
        weights = sg.tensor(upstream)

        def loss(*xs, weights=weights):
            return (case.fn(sg, *xs) * weights).sum()

        argnums = tuple(range(len(arrays)))
        results = {
            tier: sg.value_and_grad(loss, argnums=argnums, tier=tier)(*arrays)
            for tier in ("sync", "interpret")
        }
        (v_kernel, g_kernel), (v_interp, g_interp) = results["sync"], results["interpret"]
        np.testing.assert_allclose(v_interp.numpy(), v_kernel.numpy(), rtol=tol, atol=tol)
        for i, k in zip(g_interp, g_kernel, strict=True):
            assert i.dtype == k.dtype == dtype
            np.testing.assert_allclose(i.numpy(), k.numpy(), rtol=tol, atol=tol)

        monkeypatch.setenv("SYMGRAD_COMPILE", "interpret")
        _, eager_interp = eager_grads(case.fn, arrays, upstream)
        monkeypatch.setenv("SYMGRAD_COMPILE", "sync")
        _, eager_kernel = eager_grads(case.fn, arrays, upstream)
        for i, k in zip(eager_interp, eager_kernel, strict=True):
            np.testing.assert_allclose(i, k, rtol=tol, atol=tol)
