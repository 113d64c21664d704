"""``F.conv1d``/``F.conv2d`` through the ``conv`` primitive: values and gradients against
PyTorch eagerly and compiled, float64 and float32, a new batch size without a retrace,
second derivatives, errors, and formulas."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

import symgrad as sg
import symgrad.nn.functional as F
from symgrad.errors import ShapeError

TF = torch.nn.functional
TOL = {np.float64: {"rtol": 1e-10, "atol": 1e-12}, np.float32: {"rtol": 1e-5, "atol": 1e-5}}
CASES = [
    (2, {}),
    (2, {"stride": 2, "padding": 1}),
    (2, {"stride": (1, 2), "padding": (2, 0), "dilation": (2, 1)}),
    (2, {"groups": 2, "padding": "same", "dilation": 2}),
    (2, {"groups": 4, "stride": 3, "padding": (1, 2)}),  # depthwise
    (1, {"stride": 2, "padding": 3, "dilation": 2, "groups": 2}),
]


def _arrays(d: int, kwargs: dict, dtype, batch: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    groups = kwargs.get("groups", 1)
    spatial = (9, 10)[:d]
    kernel = (3, 2)[:d] if groups != 4 else (3,) * d
    x = rng.standard_normal((batch, 4, *spatial)).astype(dtype)
    w = rng.standard_normal((8, 4 // groups, *kernel)).astype(dtype)
    b = rng.standard_normal(8).astype(dtype)
    return x, w, b


def _torch(d, kwargs, x, w, b, upstream):
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    out = (TF.conv1d if d == 1 else TF.conv2d)(tx, tw, tb, **kwargs)
    out.backward(torch.tensor(upstream))
    return out.detach().numpy(), [t.grad.numpy() for t in (tx, tw, tb)]


def _sg_conv(d):
    return F.conv1d if d == 1 else F.conv2d


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("d", "kwargs"), CASES, ids=str)
def test_eager_conv_matches_torch(d, kwargs, dtype):
    x, w, b = _arrays(d, kwargs, dtype)
    inputs = [sg.tensor(a, requires_grad=True) for a in (x, w, b)]
    out = _sg_conv(d)(*inputs, **kwargs)
    upstream = np.random.default_rng(1).standard_normal(out.shape).astype(dtype)
    expected, grads = _torch(d, kwargs, x, w, b, upstream)
    assert out.dtype == dtype
    np.testing.assert_allclose(out.numpy(), expected, **TOL[dtype])
    (out * sg.tensor(upstream)).sum().backward()
    for t, g in zip(inputs, grads, strict=True):
        assert t.grad.dtype == dtype
        np.testing.assert_allclose(t.grad.numpy(), g, **TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("d", "kwargs"), CASES, ids=str)
def test_compiled_conv_matches_torch_and_keeps_its_kernel_for_a_new_batch(d, kwargs, dtype):
    conv = _sg_conv(d)
    x, w, b = _arrays(d, kwargs, dtype)
    out_shape = conv(x, w, **kwargs).shape[1:]
    step = sg.value_and_grad(
        lambda x, w, b, u: (conv(x, w, b, **kwargs) * u).sum(), argnums=(0, 1, 2), tier="sync"
    )
    cache = os.environ["SYMGRAD_CACHE_DIR"]
    for batch in (3, 5, 2):  # (a batch of 1 is another signature: a unit dim)
        x, _, _ = _arrays(d, kwargs, dtype, batch=batch, seed=batch)
        u = np.random.default_rng(batch).standard_normal((batch, *out_shape)).astype(dtype)
        value, grads = step(x, w, b, u)
        expected, expected_grads = _torch(d, kwargs, x, w, b, u)
        np.testing.assert_allclose(value.item(), (expected * u).sum(), rtol=10 * TOL[dtype]["rtol"])
        for g, want in zip(grads, expected_grads, strict=True):
            np.testing.assert_allclose(g.numpy(), want, **TOL[dtype])
        assert step.status() == "kernel"
        if batch == 3:
            files, traces = set(os.listdir(cache)), step.trace_count()
    assert step.trace_count() == traces == 1
    assert set(os.listdir(cache)) == files  # a new batch size compiles nothing


@pytest.mark.parametrize(("d", "kwargs"), CASES, ids=str)
def test_compiled_conv_runs_a_large_batch_in_blocks_of_samples(d, kwargs):
    # blocks of samples, a last one not full
    from symgrad.ir.primitives.conv_kernel import BLOCK_COLUMNS

    conv = _sg_conv(d)
    rng = np.random.default_rng(5)
    groups = kwargs.get("groups", 1)
    kernel = (3, 2)[:d] if groups != 4 else (3,) * d
    w, b = rng.standard_normal((8, 4 // groups, *kernel)), rng.standard_normal(8)
    positions = int(np.prod(conv(np.zeros((1, 4, *(30, 31)[:d])), w, **kwargs).shape[2:]))
    batch = 2 * max(1, BLOCK_COLUMNS // positions) + 1  # 3 blocks, the last one partial
    x = rng.standard_normal((batch, 4, *(30, 31)[:d]))
    out_shape = conv(x, w, **kwargs).shape
    u = rng.standard_normal(out_shape)
    step = sg.value_and_grad(
        lambda x, w, b, u: (conv(x, w, b, **kwargs) * u).sum(), argnums=(0, 1, 2), tier="sync"
    )
    value, grads = step(x, w, b, u)
    expected, want = _torch(d, kwargs, x, w, b, u)
    np.testing.assert_allclose(value.item(), (expected * u).sum(), **TOL[np.float64])
    for got, g in zip(grads, want, strict=True):
        np.testing.assert_allclose(got.numpy(), g, **TOL[np.float64])


def test_compiled_graph_holds_conv_nodes_and_no_gathers():
    x, w = np.ones((2, 3, 6, 6)), np.ones((4, 3, 3, 3))
    grad = sg.value_and_grad(lambda x, w: F.conv2d(x, w, padding=1, stride=2).sum(), (0, 1))
    text = grad.graph(x, w)
    for name in ("conv[", "conv_input_grad[", "conv_weight_grad["):
        assert name in text
    assert "gather" not in text and "scatter_add" not in text and "concat" not in text


def test_second_derivatives_match_torch():
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((2, 4, 7, 6)), rng.standard_normal((6, 2, 3, 2))
    kwargs = {"stride": (2, 1), "padding": 1, "groups": 2}

    def inner(x, w):  # the squared norm of the input gradient of a conv loss
        (gx,) = sg.autograd.grad((F.conv2d(x, w, **kwargs) ** 2).sum(), [x], create_graph=True)
        return (gx**2).sum()

    xs, ws = (sg.tensor(a, requires_grad=True) for a in (x, w))
    inner(xs, ws).backward()
    tx, tw = (torch.tensor(a, requires_grad=True) for a in (x, w))
    (gx,) = torch.autograd.grad((TF.conv2d(tx, tw, **kwargs) ** 2).sum(), [tx], create_graph=True)
    (gx**2).sum().backward()
    np.testing.assert_allclose(xs.grad.numpy(), tx.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(ws.grad.numpy(), tw.grad.numpy(), rtol=1e-10)


def test_mismatched_channels_raise_a_shape_error_naming_op_and_shapes():
    with pytest.raises(ShapeError, match=r"conv2d: input \(2, 3, 5, 5\).*weight \(4, 2, 3, 3\)"):
        F.conv2d(sg.zeros(2, 3, 5, 5), sg.zeros(4, 2, 3, 3))
    step = sg.compile(lambda x, w: F.conv2d(x, w))
    with pytest.raises(ShapeError, match="conv2d"):
        step(np.zeros((2, 3, 5, 5)), np.zeros((4, 2, 3, 3)))
    with pytest.raises(ShapeError, match="conv1d"):
        F.conv1d(sg.zeros(1, 2, 2), sg.zeros(1, 2, 3))  # a window larger than the input


def test_formulas_show_and_verify_the_conv_gradient():
    x = sg.tensor(np.random.default_rng(2).standard_normal((2, 2, 5, 5)))
    w = np.random.default_rng(3).standard_normal((3, 2, 3, 3))
    formulas = sg.formulas(lambda w: F.conv2d(x, w, padding=1).sum(), w, verify=True)
    assert "conv" in str(formulas)
