"""Generated kernels: fused loops, formulas as comments, no temporaries, typed literals."""

from __future__ import annotations

import numpy as np

import symgrad as sg


def _source(fn, *args):
    return sg.compile(fn).source(*args)


def test_elementwise_work_is_one_loop_with_formula_comments():
    src = _source(lambda a, b: sg.tanh(a * b) + sg.exp(a), np.ones(8), np.ones(8))
    body = src.split("def kernel")[1]
    assert body.count("for i0 in range(n_0)") == 1  # the size comes from the array
    assert "n_0 = a.shape[0]" in body and "8" not in body
    assert "# t0 = tanh(a*b)" in body
    assert "np." not in body  # no NumPy temporaries inside the kernel


def test_reduction_fuses_into_the_producing_loop():
    src = _source(lambda a: (a * a).sum(), np.ones(6))
    assert src.count("for i0") == 1 and "a_t1 += " in src


def test_broadcast_reads_index_the_smaller_input():
    src = _source(lambda a, b: a * b, np.ones((2, 3)), np.ones(3))
    assert "e_b = b[i1]" in src and "e_a = a[i0, i1]" in src


def test_float32_kernel_uses_float32_literals():
    src = _source(lambda a: a * 0.5 + 1, np.ones(3, np.float32))
    assert "np.float32(0.5)" in src and "np.float32(1.0)" in src


def test_kernel_writes_into_existing_buffers():
    from symgrad.runtime.eager_backward import _PLANS

    w = sg.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    buffer = w.grad.numpy()
    (w * w).sum().backward()
    assert w.grad.numpy() is buffer  # accumulated in place
    sources = [plan.kernel.source for plan in _PLANS.values()]
    assert any("out0[i0] += " in s for s in sources)


def test_float32_erf_is_within_a_few_ulps_everywhere_and_keeps_nan_and_inf():
    from scipy.special import erf

    grid = np.concatenate([np.linspace(-7, 7, 400_001), [np.nan, np.inf, -np.inf, 0.0, -0.0]])
    f = sg.compile(lambda x: sg.erf(x), tier="sync")
    x32 = grid.astype(np.float32)
    got = f(x32).numpy()
    assert "sg_erf32(" in f.source(x32)
    want = erf(x32.astype(np.float64))
    np.testing.assert_allclose(got, want, rtol=5e-7, atol=5e-7)  # float32's eps is 1.2e-7
    x64 = grid  # float64 kernels keep libm's erf, to float64 precision
    assert "math.erf(" in f.source(x64) and "sg_erf32" not in f.source(x64)
    np.testing.assert_allclose(f(x64).numpy(), erf(x64), rtol=1e-15, atol=1e-16)
