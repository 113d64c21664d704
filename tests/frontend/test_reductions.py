"""max/min at ties, max(dim) values and indices, argmax/argmin, missing dims, var/std.

PyTorch is the oracle: ``max()``/``amax`` split the gradient evenly among tied
maxima, ``max(dim)`` sends it to the (first) returned index.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import symgrad as sg
from symgrad.errors import ShapeError

torch.set_default_dtype(torch.float64)

TOL = {"rtol": 1e-10, "atol": 1e-12}

# Rows with two-, three- and four-way ties, for max and for min.
TIES = np.array(
    [
        [1.0, 3.0, 3.0, -2.0],
        [2.0, 2.0, 0.0, 0.0],
        [5.0, 5.0, 5.0, 5.0],
        [-1.0, 4.0, -1.0, 4.0],
    ]
)
TIES_3D = np.array([[[1.0, 2.0], [2.0, 2.0]], [[0.0, 2.0], [-3.0, -3.0]], [[2.0, 1.0], [2.0, 0.0]]])


def _upstream(shape, seed=1):
    return np.random.default_rng(seed).uniform(0.5, 1.5, shape)


def _eager(fn, a, upstream):
    x = sg.tensor(a, requires_grad=True)
    out = fn(x)
    out.backward(gradient=sg.tensor(upstream))
    return out.numpy(), x.grad.numpy()


def _torch(fn, a, upstream):
    t = torch.tensor(a, requires_grad=True)
    out = fn(t)
    out.backward(torch.tensor(upstream))
    return out.detach().numpy(), t.grad.numpy()


TIE_CASES = [
    pytest.param(lambda x: x.max(), TIES, id="max"),
    pytest.param(lambda x: x.min(), TIES, id="min"),
    pytest.param(lambda x: x.amax(dim=1), TIES, id="amax-dim1"),
    pytest.param(lambda x: x.amin(dim=1), TIES, id="amin-dim1"),
    pytest.param(lambda x: x.amax(dim=0, keepdim=True), TIES, id="amax-dim0-keepdim"),
    pytest.param(lambda x: x.amax(dim=(0, 2)), TIES_3D, id="amax-tuple"),
    pytest.param(lambda x: x.amin(dim=-1, keepdim=True), TIES_3D, id="amin-last-keepdim"),
    pytest.param(lambda x: x.max(), TIES_3D, id="max-3d"),
    pytest.param(lambda x: x.max(dim=1).values, TIES, id="max-dim1-values"),
    pytest.param(lambda x: x.max(dim=0)[0], TIES, id="max-dim0-values"),
    pytest.param(lambda x: x.min(dim=1, keepdim=True).values, TIES, id="min-dim1-keepdim"),
    pytest.param(lambda x: x.max(dim=-1).values, TIES_3D, id="max-last-3d"),
    pytest.param(lambda x: x.min(dim=0).values, TIES_3D, id="min-dim0-3d"),
    pytest.param(lambda x: x.amax(dim=1) * x.amin(dim=1), TIES, id="amax-times-amin"),
]


@pytest.mark.parametrize(("fn", "data"), TIE_CASES)
def test_ties_gradient_matches_torch_in_eager_mode(fn, data):
    expected_value = np.asarray(fn(torch.tensor(data)).numpy())
    upstream = _upstream(expected_value.shape)
    value, grad = _eager(fn, data, upstream)
    t_value, t_grad = _torch(fn, data, upstream)
    np.testing.assert_array_equal(value, t_value)
    np.testing.assert_allclose(grad, t_grad, **TOL)


@pytest.mark.parametrize(("fn", "data"), TIE_CASES)
def test_ties_gradient_matches_torch_through_sg_grad(fn, data):
    expected_value = np.asarray(fn(torch.tensor(data)).numpy())
    upstream = _upstream(expected_value.shape)
    _, t_grad = _torch(fn, data, upstream)
    w = sg.tensor(upstream)
    grad = sg.grad(lambda x: (fn(x) * w).sum())(data)
    np.testing.assert_allclose(grad.numpy(), t_grad, **TOL)


def test_max_of_all_equal_splits_evenly():
    x = sg.tensor(np.full((2, 3), 7.0), requires_grad=True)
    x.max().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full((2, 3), 1 / 6), **TOL)


# --- max(dim) / min(dim): values and indices ------------------------------------------------
@pytest.mark.parametrize("kind", ["max", "min"])
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_min_dim_returns_values_and_indices_like_torch(kind, dim, keepdim):
    ours = getattr(sg.tensor(TIES), kind)(dim=dim, keepdim=keepdim)
    theirs = getattr(torch.tensor(TIES), kind)(dim=dim, keepdim=keepdim)
    values, indices = ours  # unpacks like torch.return_types.max
    assert ours.values is values and ours.indices is indices
    np.testing.assert_array_equal(values.numpy(), theirs.values.numpy())
    np.testing.assert_array_equal(indices.numpy(), theirs.indices.numpy())
    assert indices.dtype == np.int64
    assert values.shape == tuple(theirs.values.shape)


@pytest.mark.parametrize("kind", ["max", "min"])
def test_max_min_dim_values_and_indices_when_compiled(kind):
    combos = [(dim, keepdim) for dim in (0, 1, -1) for keepdim in (False, True)]
    compiled = sg.compile(
        lambda x: [t for d, k in combos for t in getattr(x, kind)(dim=d, keepdim=k)]
    )
    outs = compiled(TIES)
    pairs = zip(outs[::2], outs[1::2], strict=True)
    for (dim, keepdim), (values, indices) in zip(combos, pairs, strict=True):
        theirs = getattr(torch.tensor(TIES), kind)(dim=dim, keepdim=keepdim)
        np.testing.assert_array_equal(values.numpy(), theirs.values.numpy())
        np.testing.assert_array_equal(indices.numpy(), theirs.indices.numpy())
        assert indices.dtype == np.int64


@pytest.mark.parametrize("kind", ["max", "min"])
def test_max_dim_gradient_goes_to_the_returned_index(kind):
    upstream = _upstream((4,))
    fn = lambda x: getattr(x, kind)(dim=1).values  # noqa: E731
    _, grad = _eager(fn, TIES, upstream)
    _, t_grad = _torch(fn, TIES, upstream)
    np.testing.assert_allclose(grad, t_grad, **TOL)
    indices = getattr(torch.tensor(TIES), kind)(dim=1).indices.numpy()
    expected = np.zeros_like(TIES)
    expected[np.arange(4), indices] = upstream  # one entry per row, not split
    np.testing.assert_allclose(grad, expected, **TOL)


def test_module_level_max_and_min():
    a = TIES_3D
    t = torch.tensor(a)
    np.testing.assert_array_equal(sg.max(a).numpy(), torch.max(t).numpy())
    np.testing.assert_array_equal(sg.min(a, 2).indices.numpy(), torch.min(t, 2).indices.numpy())
    np.testing.assert_array_equal(sg.max(a, 0).values.numpy(), torch.max(t, 0).values.numpy())


# --- argmax / argmin ------------------------------------------------------------------------
ARG_DATA = {
    "ties": TIES,
    "ties3d": TIES_3D,
    "random": np.random.default_rng(3).standard_normal((3, 5, 2)),
    "vector": np.array([0.5, -1.0, 2.0, 2.0, -1.0]),
}


@pytest.mark.parametrize("kind", ["argmax", "argmin"])
@pytest.mark.parametrize("data", sorted(ARG_DATA))
@pytest.mark.parametrize("dim", [None, 0, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_argmax_argmin_match_torch_and_numpy(kind, data, dim, keepdim):
    a = ARG_DATA[data]
    expected = getattr(torch.tensor(a), kind)(dim=dim, keepdim=keepdim).numpy()
    if not keepdim:  # NumPy agrees with torch (first index at ties)
        np.testing.assert_array_equal(expected, getattr(np, kind)(a, axis=dim))

    eager = getattr(sg.tensor(a), kind)(dim=dim, keepdim=keepdim)
    assert eager.dtype == np.int64
    assert eager.shape == expected.shape
    np.testing.assert_array_equal(eager.numpy(), expected)

    module = getattr(sg, kind)(sg.tensor(a), dim, keepdim)
    np.testing.assert_array_equal(module.numpy(), expected)


@pytest.mark.parametrize("data", ["ties3d", "random", "vector"])
def test_argmax_argmin_match_torch_when_compiled(data):
    a = ARG_DATA[data]
    combos = [
        (kind, dim, keepdim)
        for kind in ("argmax", "argmin")
        for dim in (None, 0, -1)
        for keepdim in (False, True)
    ]
    compiled = sg.compile(lambda x: [getattr(x, k)(dim=d, keepdim=kd) for k, d, kd in combos])
    for (kind, dim, keepdim), out in zip(combos, compiled(a), strict=True):
        expected = getattr(torch.tensor(a), kind)(dim=dim, keepdim=keepdim).numpy()
        assert out.dtype == np.int64
        assert out.shape == expected.shape, (kind, dim, keepdim)
        np.testing.assert_array_equal(out.numpy(), expected, err_msg=f"{kind} {dim} {keepdim}")


def test_argmax_of_tensor_requiring_grad_has_no_gradient_path():
    a = np.random.default_rng(4).standard_normal((3, 4))
    x = sg.tensor(a, requires_grad=True)
    idx = x.argmax(dim=1)
    picked = x[sg.arange(3), idx]
    picked.backward(gradient=sg.ones(3))
    expected = np.zeros_like(a)
    expected[np.arange(3), a.argmax(axis=1)] = 1.0
    np.testing.assert_array_equal(x.grad.numpy(), expected)


def test_argmax_in_compiled_gradient_selects_like_torch():
    a = np.random.default_rng(5).standard_normal((4, 3))
    g = sg.grad(lambda x: (x[sg.arange(4), x.argmax(dim=1)] ** 2).sum())(a)
    t = torch.tensor(a, requires_grad=True)
    (t[torch.arange(4), t.argmax(dim=1)] ** 2).sum().backward()
    np.testing.assert_allclose(g.numpy(), t.grad.numpy(), **TOL)


# --- missing dims ---------------------------------------------------------------------------
MISSING_DIM = [
    pytest.param(lambda x: x.sum(dim=2), id="sum"),
    pytest.param(lambda x: x.mean(dim=-3), id="mean"),
    pytest.param(lambda x: x.amax(dim=2), id="amax"),
    pytest.param(lambda x: x.amin(dim=(0, 5)), id="amin-tuple"),
    pytest.param(lambda x: x.max(dim=2), id="max-dim"),
    pytest.param(lambda x: x.min(dim=-3), id="min-dim"),
    pytest.param(lambda x: x.argmax(dim=2), id="argmax"),
    pytest.param(lambda x: x.argmin(dim=-3), id="argmin"),
    pytest.param(lambda x: x.logsumexp(dim=2), id="logsumexp"),
    pytest.param(lambda x: x.var(dim=2), id="var"),
    pytest.param(lambda x: x.std(dim=-3), id="std"),
    pytest.param(lambda x: sg.softmax(x, dim=2), id="softmax"),
]


@pytest.mark.parametrize("fn", MISSING_DIM)
def test_reduction_over_missing_dim_raises_shape_error(fn):
    with pytest.raises(ShapeError):
        fn(sg.ones(2, 3))
    with pytest.raises(ShapeError):
        fn(sg.ones(2, 3, requires_grad=True))
    with pytest.raises(ShapeError):
        sg.compile(fn)(np.ones((2, 3)))


def test_missing_dim_error_is_a_value_error_naming_the_shape():
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        sg.ones(2, 3).amax(dim=2)


# --- var / std ------------------------------------------------------------------------------
VAR_CASES = [
    pytest.param(lambda x: x.var(unbiased=False), id="var-biased-all"),
    pytest.param(lambda x: x.var(dim=1, unbiased=False), id="var-biased-dim"),
    pytest.param(lambda x: x.var(dim=0, unbiased=True, keepdim=True), id="var-unbiased-keep"),
    pytest.param(lambda x: x.var(dim=(0, 2), correction=0), id="var-correction0-tuple"),
    pytest.param(lambda x: x.var(dim=1, correction=2), id="var-correction2"),
    pytest.param(lambda x: x.std(unbiased=False), id="std-biased-all"),
    pytest.param(lambda x: x.std(dim=2, unbiased=False, keepdim=True), id="std-biased-dim"),
    pytest.param(lambda x: x.std(dim=1, correction=2), id="std-correction2"),
    pytest.param(lambda x: x.std(dim=(1, 2), correction=0), id="std-correction0-tuple"),
]


@pytest.mark.parametrize("fn", VAR_CASES)
def test_var_std_match_torch(fn):
    a = np.random.default_rng(6).standard_normal((3, 4, 5))
    t_value = fn(torch.tensor(a)).numpy()
    upstream = _upstream(t_value.shape)
    value, grad = _eager(fn, a, upstream)
    t_value, t_grad = _torch(fn, a, upstream)
    assert value.shape == t_value.shape
    np.testing.assert_allclose(value, t_value, **TOL)
    np.testing.assert_allclose(grad, t_grad, **TOL)

    w = sg.tensor(upstream)
    compiled = sg.grad(lambda x: (fn(x) * w).sum())(a)
    np.testing.assert_allclose(compiled.numpy(), t_grad, **TOL)


def test_var_std_values_match_numpy_ddof():
    a = np.random.default_rng(7).standard_normal((4, 6))
    x = sg.tensor(a)
    np.testing.assert_allclose(x.var(unbiased=False).item(), a.var(), rtol=1e-12)
    np.testing.assert_allclose(x.var(dim=1, correction=3).numpy(), a.var(axis=1, ddof=3), **TOL)
    np.testing.assert_allclose(x.std(dim=0).numpy(), a.std(axis=0, ddof=1), **TOL)
    np.testing.assert_allclose(
        sg.std(x, 1, False, True).numpy(), a.std(axis=1, keepdims=True), **TOL
    )
    np.testing.assert_allclose(sg.var(x, correction=0).item(), a.var(), rtol=1e-12)


def test_var_float32_stays_float32():
    a = np.random.default_rng(8).standard_normal((3, 4)).astype(np.float32)
    x = sg.tensor(a, requires_grad=True)
    out = x.var(dim=1, unbiased=False)
    assert out.dtype == np.float32
    out.backward(gradient=sg.ones(3, dtype=sg.float32))
    assert x.grad.dtype == np.float32
    t = torch.tensor(a, requires_grad=True)
    t.var(dim=1, unbiased=False).backward(torch.ones(3, dtype=torch.float32))
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-5, atol=1e-6)
