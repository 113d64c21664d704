"""Property tests: drawn shapes (0-d, size-1 dims, broadcasting pairs) for a few core ops.

Hypothesis draws the shapes, the reduction dims and a seed; the float data come from a
seeded NumPy generator, kept away from kinks and ties.  Each example checks the eager
value against NumPy and the eager gradient (``backward`` with a random upstream)
against PyTorch in float64.
"""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes

import symgrad as sg

torch.set_default_dtype(torch.float64)

GRAD_TOL = {"rtol": 1e-10, "atol": 1e-12}
VALUE_TOL = {"rtol": 1e-12, "atol": 1e-12}
SETTINGS = settings(max_examples=14, deadline=None, derandomize=True)

shapes = array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)
seeds = st.integers(0, 2**31 - 1)


def _pair_shapes(num_shapes: int = 2):
    return mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=0, max_dims=3, min_side=1, max_side=3
    ).map(lambda bs: bs.input_shapes)


def _data(rng: np.random.Generator, shape, domain: str = "any") -> np.ndarray:
    x = np.asarray(rng.standard_normal(shape))
    if domain == "away":  # at least 0.3 away from zero (divisors, kinks of where/abs)
        x = np.where(x >= 0, x + 0.3, x - 0.3)
    return x


def _upstream(rng: np.random.Generator, shape) -> np.ndarray:
    return np.asarray(rng.uniform(0.5, 1.5, shape))


def _check(fn_sg, fn_torch, ref, arrays, rng, constants=()):
    """Eager value vs NumPy and eager gradients vs PyTorch for ``fn(*constants, *arrays)``."""
    expected = np.asarray(ref(*constants, *arrays))
    upstream = _upstream(rng, expected.shape)

    xs = [sg.tensor(a, requires_grad=True) for a in arrays]
    out = fn_sg(*[sg.tensor(c) for c in constants], *xs)
    assert out.shape == expected.shape
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.numpy(), expected, **VALUE_TOL)
    out.backward(gradient=sg.tensor(upstream))

    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    t_out = fn_torch(*[torch.tensor(c) for c in constants], *ts)
    t_out.backward(torch.tensor(upstream))

    for x, t, a in zip(xs, ts, arrays, strict=True):
        assert x.grad is not None
        assert x.grad.shape == a.shape
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), **GRAD_TOL)


def _np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


BINARY = {
    "add": (lambda a, b: a + b, lambda a, b: a + b, np.add),
    "mul": (lambda a, b: a * b, lambda a, b: a * b, np.multiply),
    "div": (lambda a, b: a / b, lambda a, b: a / b, np.divide),
    "maximum": (sg.maximum, torch.maximum, np.maximum),
}
UNARY = {
    "tanh": (sg.tanh, torch.tanh, np.tanh),
    "sigmoid": (sg.sigmoid, torch.sigmoid, _np_sigmoid),
    "tanh_of_sigmoid_times_x": (
        lambda x: sg.tanh(sg.sigmoid(x) * x),
        lambda x: torch.tanh(torch.sigmoid(x) * x),
        lambda x: np.tanh(_np_sigmoid(x) * x),
    ),
}


@SETTINGS
@given(op=st.sampled_from(sorted(BINARY)), pair=_pair_shapes(), seed=seeds)
def test_binary_broadcasting(op, pair, seed):
    rng = np.random.default_rng(seed)
    a = _data(rng, pair[0])
    b = _data(rng, pair[1], "away" if op == "div" else "any")
    fn_sg, fn_torch, ref = BINARY[op]
    _check(fn_sg, fn_torch, ref, [a, b], rng)


@SETTINGS
@given(op=st.sampled_from(sorted(UNARY)), shape=shapes, seed=seeds)
def test_unary(op, shape, seed):
    rng = np.random.default_rng(seed)
    fn_sg, fn_torch, ref = UNARY[op]
    _check(fn_sg, fn_torch, ref, [_data(rng, shape) * 2], rng)


@SETTINGS
@given(triple=_pair_shapes(3), seed=seeds)
def test_where_broadcasting(triple, seed):
    rng = np.random.default_rng(seed)
    condition = rng.random(triple[0]) < 0.5
    a, b = _data(rng, triple[1]), _data(rng, triple[2])
    _check(
        lambda c, x, y: sg.where(c, x * 2, y),
        lambda c, x, y: torch.where(c, x * 2, y),
        lambda c, x, y: np.where(c, x * 2, y),
        [a, b],
        rng,
        constants=(condition,),
    )


@SETTINGS
@given(pair=_pair_shapes(), seed=seeds)
def test_where_on_values_with_maximum(pair, seed):
    rng = np.random.default_rng(seed)
    a, b = _data(rng, pair[0], "away"), _data(rng, pair[1])
    _check(
        lambda x, y: sg.where(x > 0, sg.maximum(x, y) * y, x / (1 + y * y)),
        lambda x, y: torch.where(x > 0, torch.maximum(x, y) * y, x / (1 + y * y)),
        lambda x, y: np.where(x > 0, np.maximum(x, y) * y, x / (1 + y * y)),
        [a, b],
        rng,
    )


def _np_logsumexp(a, axis, keepdims):
    peak = np.max(a, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(a - peak), axis=axis, keepdims=True)) + peak
    return out if keepdims else np.squeeze(out, axis=axis)


REDUCTIONS = {
    "sum": (np.sum, lambda t, dim, keepdim: t.sum(dim=dim, keepdim=keepdim)),
    "mean": (np.mean, lambda t, dim, keepdim: t.mean(dim=dim, keepdim=keepdim)),
    "amax": (np.max, lambda t, dim, keepdim: t.amax(dim=dim, keepdim=keepdim)),
    "logsumexp": (_np_logsumexp, lambda t, dim, keepdim: t.logsumexp(dim=dim, keepdim=keepdim)),
}


@st.composite
def _reduction_dims(draw):
    """A shape and a dim spec: None (all dims), one int (maybe negative) or a tuple of dims."""
    shape = draw(array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    ndim = len(shape)
    kind = draw(st.sampled_from(["all", "int", "tuple"]))
    if kind == "all":
        return shape, None
    if kind == "int":
        return shape, draw(st.integers(-ndim, ndim - 1))
    dims = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    return shape, tuple(dims)


@SETTINGS
@given(
    op=st.sampled_from(sorted(REDUCTIONS)),
    shape_dim=_reduction_dims(),
    keepdim=st.booleans(),
    seed=seeds,
)
@example(op="logsumexp", shape_dim=((), None), keepdim=True, seed=0)  # 0-d input
@example(op="amax", shape_dim=((), None), keepdim=False, seed=1)
def test_reductions(op, shape_dim, keepdim, seed):
    shape, dim = shape_dim
    rng = np.random.default_rng(seed)
    a = _data(rng, shape)  # continuous data: no ties for amax
    np_fn, method = REDUCTIONS[op]
    axis = None if dim is None else dim
    torch_dim = tuple(range(len(shape))) if dim is None else dim
    _check(
        lambda x: method(x, dim, keepdim),
        lambda t: method(t, torch_dim, keepdim),
        lambda x: np_fn(x, axis=axis, keepdims=keepdim),
        [a],
        rng,
    )
