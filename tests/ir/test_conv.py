"""The ``conv`` primitive and its two gradients: kernels and NumPy evaluation against
PyTorch for 1-D, 2-D and 3-D convolutions with stride, asymmetric padding, dilation and
groups, in float64 and float32 (images whose samples are blocks of their own, and
smaller ones blocked together), and an empty batch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from symgrad import ir
from symgrad.compiler.build import build
from symgrad.ir.primitives.conv import ConvParams
from symgrad.ir.sizes import size_symbol

TF = torch.nn.functional
TORCH_CONV = {1: TF.conv1d, 2: TF.conv2d, 3: TF.conv3d}

# (x shape, weight shape, stride, lo, hi, dilation, groups)
CASES = [
    ((2, 3, 9), (4, 3, 3), (1,), (0,), (0,), (1,), 1),
    ((2, 6, 11), (6, 2, 3), (2,), (2,), (1,), (2,), 3),
    ((2, 4, 7, 8), (6, 4, 3, 2), (1, 1), (0, 0), (0, 0), (1, 1), 1),
    ((3, 4, 7, 8), (6, 2, 3, 2), (2, 1), (1, 0), (2, 1), (1, 2), 2),
    ((2, 4, 9, 9), (8, 1, 3, 3), (2, 2), (1, 1), (1, 1), (1, 1), 4),  # depthwise
    ((1, 2, 5, 6), (3, 2, 5, 2), (3, 2), (2, 0), (2, 3), (1, 3), 1),  # kernel = padded height
    ((2, 2, 4, 5, 6), (2, 1, 2, 3, 2), (1, 2, 1), (1, 0, 1), (0, 1, 1), (2, 1, 1), 2),
    # DIRECT_COLUMNS output positions or more: the products read and write samples in place
    ((3, 4, 25, 24), (6, 2, 3, 3), (1, 1), (1, 1), (1, 1), (1, 1), 2),
    ((1, 1, 1100), (2, 1, 3), (2,), (1,), (0,), (1,), 1),
    # stride 1 (the micro-kernels; 1, 2 or 5 rows stay im2col): channels not a multiple
    # of the tiles' 4 rows, a patch not one of 3 columns, asymmetric padding wider than
    # the dilated kernel, 3-D
    ((2, 3, 6, 7), (6, 3, 2, 2), (1, 1), (2, 0), (1, 3), (2, 1), 1),
    ((2, 3, 6, 6), (5, 3, 3, 3), (1, 1), (4, 3), (3, 4), (1, 1), 1),
    ((2, 4, 30), (8, 2, 5), (1,), (2,), (2,), (3,), 2),
    ((2, 6, 5, 4, 6), (8, 3, 2, 2, 3), (1, 1, 1), (1, 0, 2), (0, 1, 0), (1, 1, 2), 2),
    ((2, 2, 3, 3), (4, 2, 3, 3), (1, 1), (0, 0), (0, 0), (1, 1), 1),  # one output position
]


def _torch_reference(x, w, upstream, stride, lo, hi, dilation, groups):
    """Torch's value and gradients; asymmetric padding through an explicit ``F.pad``."""
    tx, tw = (torch.tensor(a, requires_grad=True) for a in (x, w))
    pads = [n for j in reversed(range(len(lo))) for n in (lo[j], hi[j])]
    out = TORCH_CONV[len(lo)](TF.pad(tx, pads), tw, stride=stride, dilation=dilation, groups=groups)
    out.backward(torch.tensor(upstream))
    return out.detach().numpy(), tx.grad.numpy(), tw.grad.numpy()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_kernels_and_evaluation_match_torch(case, dtype):
    x_shape, w_shape, *conv = case
    params = ConvParams(*conv)
    rng = np.random.default_rng(3)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    xv, wv = ir.Var(x.shape, x.dtype), ir.Var(w.shape, w.dtype)
    out = ir.conv(xv, wv, params)
    upstream = rng.standard_normal(out.shape).astype(dtype)
    gv = ir.Var(out.shape, out.dtype)
    gx = ir.conv_input_grad(gv, wv, params, x.shape[2:])
    gw = ir.conv_weight_grad(xv, gv, params, w.shape[2:])
    expected = _torch_reference(x, w, upstream, *conv)
    tol = {"rtol": 1e-10, "atol": 1e-12} if dtype == np.float64 else {"rtol": 1e-5, "atol": 1e-5}

    kernel = build(ir.Graph([xv, wv, gv], [out, gx, gw]), ["write"] * 3, ["x", "w", "g"])
    buffers = [np.full(v.shape, np.nan, v.dtype) for v in (out, gx, gw)]
    kernel(x, w, upstream, *buffers)
    evaluated = [
        ir.CONV.evaluate(params, x, w),
        ir.CONV_INPUT_GRAD.evaluate(gx.producer.params, upstream, w),
        ir.CONV_WEIGHT_GRAD.evaluate(gw.producer.params, x, upstream),
    ]
    for got, value, want in zip(buffers, evaluated, expected, strict=True):
        assert value.dtype == got.dtype == dtype
        np.testing.assert_allclose(got, want, **tol)
        np.testing.assert_allclose(value, want, **tol)


def _kernels(params, x_shape, w_shape, dtype=np.float64):
    """One kernel computing the conv and both gradients, and its output Vars."""
    xv, wv = ir.Var(x_shape, np.dtype(dtype)), ir.Var(w_shape, np.dtype(dtype))
    out = ir.conv(xv, wv, params)
    gv = ir.Var(out.shape, out.dtype)
    outs = [out, ir.conv_input_grad(gv, wv, params, x_shape[2:])]
    outs.append(ir.conv_weight_grad(xv, gv, params, w_shape[2:]))
    return build(ir.Graph([xv, wv, gv], outs), ["write"] * 3, ["x", "w", "g"]), outs


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_an_infinite_input_spoils_only_what_it_touches(dtype):
    """The stride-1 weight gradient reads image values at positions it drops (a row's
    end wraps into the next row); an infinite one there must not turn 0 * inf into NaN."""
    conv = ((1, 1), (1, 0), (0, 1), (1, 1), 1)
    x = np.random.default_rng(1).standard_normal((2, 3, 6, 7)).astype(dtype)
    x[0, 1, 3, 0] = np.inf  # first column: read by the wrapped positions of other taps
    x[1, 2, 2, 6] = -np.inf  # last column
    w = np.random.default_rng(2).standard_normal((4, 3, 3, 3)).astype(dtype)
    kernel, outs = _kernels(ConvParams(*conv), x.shape, w.shape, dtype)
    upstream = np.random.default_rng(3).standard_normal(outs[0].shape).astype(dtype)
    buffers = [np.full(v.shape, 7.0, dtype) for v in outs]
    kernel(x, w, upstream, *buffers)
    for got, want in zip(buffers, _torch_reference(x, w, upstream, *conv), strict=True):
        np.testing.assert_array_equal(np.isfinite(got), np.isfinite(want))
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    assert np.isfinite(buffers[2]).sum() > 0  # some weight gradients stay finite


@pytest.mark.parametrize("stride", [(1, 1), (2, 1)])
def test_one_kernel_serves_every_image_size(stride):
    """Spatial sizes are read from the arrays: one kernel, three image sizes."""
    params = ConvParams(stride, (1, 0), (0, 2), (1, 2), 2)
    h, wd = size_symbol(1), size_symbol(2)
    kernel, _ = _kernels(params, (2, 4, h, wd), (6, 2, 3, 2))
    rng = np.random.default_rng(4)
    w = rng.standard_normal((6, 2, 3, 2))
    for size in [(5, 6), (9, 4), (12, 13)]:
        x = rng.standard_normal((2, 4, *size))
        out = ir.CONV.evaluate(params, x, w)
        upstream = rng.standard_normal(out.shape)
        buffers = [np.full(s, np.nan) for s in (out.shape, x.shape, w.shape)]
        kernel(x, w, upstream, *buffers)
        expected = _torch_reference(x, w, upstream, stride, (1, 0), (0, 2), (1, 2), 2)
        for got, want in zip(buffers, expected, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("stride", [(1, 1), (2, 1)])
def test_kernels_take_any_batch_size_including_zero(stride):
    params = ConvParams(stride, (1, 1), (1, 1), (1, 1), 2)
    n = size_symbol(0)  # the batch size, read from the array
    xv = ir.Var((n, 4, 6, 5), np.dtype(np.float64))
    wv = ir.Var((2, 2, 3, 3), np.dtype(np.float64))
    out = ir.conv(xv, wv, params)
    kernel = build(ir.Graph([xv, wv], [out]), ["write"], ["x", "w"])
    w = np.ones((2, 2, 3, 3))
    result = np.full((0, *out.shape[1:]), np.nan)
    kernel(np.ones((0, 4, 6, 5)), w, result)  # reads nothing, writes nothing
    x = np.random.default_rng(0).standard_normal((3, 4, 6, 5))
    result = np.full((3, *out.shape[1:]), np.nan)
    kernel(x, w, result)
    np.testing.assert_allclose(result, ir.CONV.evaluate(params, x, w), rtol=1e-12)
