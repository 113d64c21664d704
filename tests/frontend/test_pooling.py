"""Pooling against PyTorch.  Average pooling through a depthwise ``conv`` node: values and
gradients (borders, ``ceil_mode``, ``count_include_pad``, float32), compiled with a new
batch size.  Max pooling through a ``max_pool`` node: values, indices and PyTorch's
gradient rule (ties, NaN, overlapping windows, padding, dilation, ``ceil_mode``) on both
tiers, finite differences, new batch and spatial sizes, second derivatives, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from support.gradcheck import central_differences

import symgrad as sg
import symgrad.nn.functional as F

TF = torch.nn.functional
CASES = [
    {"kernel_size": 2},
    {"kernel_size": 3, "stride": 2, "padding": 1},
    {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
    {
        "kernel_size": (3, 2),
        "stride": (2, 3),
        "padding": 1,
        "ceil_mode": True,
        "count_include_pad": False,
    },
    {"kernel_size": 2, "divisor_override": 3},
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kwargs", CASES, ids=str)
def test_avg_pool2d_matches_torch_eager_and_compiled(kwargs, dtype):
    tol = {"rtol": 1e-10, "atol": 1e-12} if dtype == np.float64 else {"rtol": 1e-5, "atol": 1e-6}
    rng = np.random.default_rng(0)
    step = sg.grad(lambda x, u: (F.avg_pool2d(x, **kwargs) * u).sum(), argnums=0, tier="sync")
    for batch in (2, 3):
        x = rng.standard_normal((batch, 3, 7, 8)).astype(dtype)
        tx = torch.tensor(x, requires_grad=True)
        expected = TF.avg_pool2d(tx, **kwargs)
        u = rng.standard_normal(tuple(expected.shape)).astype(dtype)
        expected.backward(torch.tensor(u))
        sx = sg.tensor(x, requires_grad=True)
        out = F.avg_pool2d(sx, **kwargs)
        assert out.dtype == dtype
        np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), **tol)
        (out * sg.tensor(u)).sum().backward()
        np.testing.assert_allclose(sx.grad.numpy(), tx.grad.numpy(), **tol)
        grad = step(x, u)
        np.testing.assert_allclose(grad.numpy(), tx.grad.numpy(), **tol)
        assert step.status() == "kernel"
    assert step.trace_count() == 1


def test_avg_pool1d_matches_torch():
    x = np.random.default_rng(1).standard_normal((2, 3, 9))
    kwargs = {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}
    sx, tx = sg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    F.avg_pool1d(sx, **kwargs).sum().backward()
    TF.avg_pool1d(tx, **kwargs).sum().backward()
    np.testing.assert_allclose(sx.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


# --- max pooling: one ``max_pool`` node, PyTorch's gradient rule and indices -----------------
MAX_CASES = [
    (1, {"kernel_size": 3, "stride": 2, "padding": 1}),  # overlapping windows, padding
    (1, {"kernel_size": 2, "stride": 2, "dilation": 3, "ceil_mode": True}),
    (1, {"kernel_size": 2, "stride": 2, "padding": 1, "ceil_mode": True}),  # a window dropped
    (2, {"kernel_size": 2}),
    (2, {"kernel_size": 3, "stride": 1}),  # every element in up to 9 windows
    (2, {"kernel_size": (3, 2), "stride": (2, 1), "padding": 1, "dilation": (2, 1)}),
    (2, {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
]
TORCH_MAX_POOL = {1: TF.max_pool1d, 2: TF.max_pool2d}
MAX_POOL = {1: F.max_pool1d, 2: F.max_pool2d}


def _pool_input(d: int, kind: str, dtype, batch: int = 2) -> np.ndarray:
    """``normal`` (no ties), ``integers`` (ties everywhere), ``equal`` (every window a tie)
    or ``nan`` (NaNs among integers)."""
    shape = (batch, 3, 9) if d == 1 else (batch, 3, 7, 8)
    rng = np.random.default_rng(4)
    x = {
        "normal": lambda: rng.standard_normal(shape),
        "integers": lambda: rng.integers(-2, 3, shape).astype(float),
        "equal": lambda: np.ones(shape),
        "nan": lambda: np.where(rng.random(shape) < 0.2, np.nan, rng.integers(0, 3, shape)),
    }[kind]()
    return x.astype(dtype)


def _torch_max_pool(d, kwargs, x, u):
    tx = torch.tensor(x, requires_grad=True)
    values, indices = TORCH_MAX_POOL[d](tx, return_indices=True, **kwargs)
    values.backward(torch.tensor(u))
    return values.detach().numpy(), indices.numpy(), tx.grad.numpy()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind", ["normal", "integers", "equal", "nan"])
@pytest.mark.parametrize(("d", "kwargs"), MAX_CASES, ids=str)
def test_max_pool_matches_torch_values_indices_and_gradients(d, kwargs, kind, dtype):
    tol = {"rtol": 1e-10, "atol": 1e-12} if dtype == np.float64 else {"rtol": 1e-5, "atol": 1e-6}
    x = _pool_input(d, kind, dtype)
    probe = TORCH_MAX_POOL[d](torch.tensor(x), **kwargs)
    u = np.random.default_rng(1).standard_normal(tuple(probe.shape)).astype(dtype)
    values, indices, grad = _torch_max_pool(d, kwargs, x, u)

    sx = sg.tensor(x, requires_grad=True)
    out, idx = MAX_POOL[d](sx, return_indices=True, **kwargs)
    assert out.dtype == dtype and idx.dtype == np.int64
    np.testing.assert_array_equal(out.numpy(), values)  # the maximum is one of the inputs
    np.testing.assert_array_equal(idx.numpy(), indices)
    (out * sg.tensor(u)).sum().backward()
    np.testing.assert_allclose(sx.grad.numpy(), grad, **tol)

    def loss(x, u):
        return (MAX_POOL[d](x, **kwargs) * u).sum()

    for tier in ("sync", "interpret"):  # the kernel tier and the interpreter tier
        np.testing.assert_allclose(sg.grad(loss, tier=tier)(x, u).numpy(), grad, **tol)
    compiled = sg.compile(lambda x: MAX_POOL[d](x, return_indices=True, **kwargs), tier="sync")
    got_values, got_indices = compiled(x)
    np.testing.assert_array_equal(got_values.numpy(), values)
    np.testing.assert_array_equal(got_indices.numpy(), indices)


@pytest.mark.parametrize(("d", "kwargs"), MAX_CASES, ids=str)
def test_max_pool_gradient_matches_finite_differences_without_ties(d, kwargs):
    x = _pool_input(d, "normal", np.float64)
    u = np.random.default_rng(2).uniform(0.5, 1.5, MAX_POOL[d](sg.tensor(x), **kwargs).shape)

    def reference(x):
        return float((TORCH_MAX_POOL[d](torch.tensor(x), **kwargs).numpy() * u).sum())

    [expected] = central_differences(reference, [x])
    sx = sg.tensor(x, requires_grad=True)
    (MAX_POOL[d](sx, **kwargs) * sg.tensor(u)).sum().backward()
    np.testing.assert_allclose(sx.grad.numpy(), expected, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize(
    ("kwargs", "traces"),
    [
        ({"kernel_size": 3, "stride": 1, "padding": 1}, 1),  # every size stays symbolic
        # u has the output's shape: equal to a floor division of x's sizes, which pins them
        ({"kernel_size": (3, 2), "stride": 2, "padding": 1, "ceil_mode": True}, 3),
    ],
    ids=str,
)
def test_compiled_max_pool_takes_new_batch_and_spatial_sizes(kwargs, traces):
    step = sg.value_and_grad(
        lambda x, u: (F.max_pool2d(x, **kwargs) * u).sum(), argnums=0, tier="sync"
    )
    rng = np.random.default_rng(3)
    for shape in [(2, 3, 7, 8), (5, 3, 7, 8), (2, 3, 9, 6), (3, 3, 4, 5)]:
        x = rng.integers(0, 3, shape).astype(np.float64)  # ties too
        tx = torch.tensor(x, requires_grad=True)
        expected = TF.max_pool2d(tx, **kwargs)
        u = rng.standard_normal(tuple(expected.shape))
        expected.backward(torch.tensor(u))
        value, grad = step(x, u)
        assert step.status() == "kernel"
        np.testing.assert_allclose(value.item(), (expected.detach().numpy() * u).sum(), rtol=1e-12)
        np.testing.assert_allclose(grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-12)
    assert step.trace_count() == traces


@pytest.mark.parametrize(
    ("pool", "kwargs"),
    [
        ("max_pool2d", {"kernel_size": 2}),
        ("max_pool2d", {"kernel_size": 3, "stride": 2, "padding": 1, "dilation": 2}),
        ("avg_pool2d", {"kernel_size": 2}),
        ("avg_pool2d", {"kernel_size": 3, "stride": 2, "padding": 1}),
        ("avg_pool2d", {"kernel_size": (3, 2), "stride": (2, 3), "count_include_pad": False}),
    ],
    ids=str,
)
def test_compiled_strided_pooling_keeps_image_sizes_symbolic(pool, kwargs):
    # output sizes are floor divisions of the input's, computed by the kernel
    step = sg.value_and_grad(lambda x: (getattr(F, pool)(x, **kwargs) ** 2).sum(), tier="sync")
    rng = np.random.default_rng(4)
    for shape in [(2, 3, 8, 8), (2, 3, 11, 9), (4, 3, 12, 13), (2, 3, 8, 8)]:
        x = rng.standard_normal(shape)
        tx = torch.tensor(x, requires_grad=True)
        expected = (getattr(TF, pool)(tx, **kwargs) ** 2).sum()
        expected.backward()
        value, grad = step(x)
        assert step.status() == "kernel"
        np.testing.assert_allclose(value.item(), expected.item(), rtol=1e-12)
        np.testing.assert_allclose(grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-12)
    assert step.trace_count() == 1


def test_max_pool_second_derivative_matches_torch():
    x = np.random.default_rng(5).integers(0, 4, (2, 2, 5, 5)).astype(np.float64)
    v = np.random.default_rng(6).standard_normal(x.shape)
    sx, tx = sg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (gx,) = sg.autograd.grad((F.max_pool2d(sx, 3, 1, 1) ** 3).sum(), [sx], create_graph=True)
    (gt,) = torch.autograd.grad((TF.max_pool2d(tx, 3, 1, 1) ** 3).sum(), [tx], create_graph=True)
    (gx * sg.tensor(v)).sum().backward()
    (gt * torch.tensor(v)).sum().backward()
    np.testing.assert_allclose(gx.detach().numpy(), gt.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(sx.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_max_pool_modules_return_indices_as_torch():
    x = np.random.default_rng(7).integers(0, 3, (3, 6, 7)).astype(np.float64)  # unbatched
    ours = sg.nn.MaxPool2d(3, stride=2, padding=1, return_indices=True)
    ref = torch.nn.MaxPool2d(3, stride=2, padding=1, return_indices=True)
    assert repr(ours) == repr(ref)
    (values, indices), (t_values, t_indices) = ours(sg.tensor(x)), ref(torch.tensor(x))
    np.testing.assert_array_equal(values.numpy(), t_values.numpy())
    np.testing.assert_array_equal(indices.numpy(), t_indices.numpy())
    one_d = sg.nn.MaxPool1d(2, return_indices=True)(sg.tensor(x[0]))
    expected = torch.nn.MaxPool1d(2, return_indices=True)(torch.tensor(x[0]))
    np.testing.assert_array_equal(one_d[1].numpy(), expected[1].numpy())


def test_max_pool_bad_input_raises_shape_errors():
    with pytest.raises(sg.errors.ShapeError, match=r"max_pool2d.*larger than the padded input"):
        F.max_pool2d(sg.zeros(1, 1, 2, 5), 3, padding=0)
    with pytest.raises(sg.errors.ShapeError, match=r"max_pool1d: padding.*half of kernel size"):
        F.max_pool1d(sg.zeros(1, 1, 8), 3, padding=2, dilation=3)  # PyTorch refuses it too
    with pytest.raises(sg.errors.ShapeError, match="max_pool1d needs a float tensor"):
        F.max_pool1d(sg.tensor([[[1, 2, 3]]]), 2)
    pool = sg.compile(lambda x: F.max_pool2d(x, 3, stride=1))
    assert pool(np.zeros((1, 1, 4, 4))).shape == (1, 1, 2, 2)
    with pytest.raises(sg.errors.ShapeError, match=r"max_pool2d.*\(2, 2\)"):
        pool(np.zeros((1, 1, 2, 2)))  # the sizes are symbolic: a guard sends it back to trace


def test_max_pool_of_an_empty_batch_is_empty():
    x = sg.zeros(0, 3, 4, 4, requires_grad=True)
    values, indices = F.max_pool2d(x, 2, return_indices=True)
    assert values.shape == indices.shape == (0, 3, 2, 2)
    values.sum().backward()
    assert x.grad.shape == (0, 3, 4, 4)
    grad = sg.grad(lambda x: F.max_pool2d(x, 3, 1, 1).sum(), tier="sync")
    assert grad(np.zeros((0, 2, 5, 5))).shape == (0, 2, 5, 5)
