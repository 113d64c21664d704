"""Pooling with PyTorch's names (part of ``sg.functional``): max, average and adaptive
average pooling in 1-D and 2-D.

Max pooling is one ``max_pool`` node (:mod:`symgrad.ir.primitives.pooling`): each
window's gradient goes to its first maximum (the last NaN, if any), as PyTorch's, and
``return_indices=True`` adds PyTorch's indices (a ``max_pool_indices`` node).
Average pooling sums each window with a depthwise ``conv`` node (a kernel of ones,
zero padding), then divides by PyTorch's divisors.

Example:
    >>> import symgrad as sg
    >>> x = sg.arange(16.0).reshape(1, 1, 4, 4)
    >>> max_pool2d(x, 2)
    tensor([[[[ 5.,  7.],
              [13., 15.]]]])
    >>> avg_pool2d(x, 2, stride=2)
    tensor([[[[ 2.5,  4.5],
              [10.5, 12.5]]]])
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from symgrad.dtypes import is_floating
from symgrad.errors import ShapeError
from symgrad.frontend import shape_ops
from symgrad.frontend.apply import apply, as_tensor, mean, sum
from symgrad.frontend.conv import (
    IntOrTuple,
    batched,
    concrete,
    ntuple,
    out_size,
    pad_dims,
    windows,
)
from symgrad.frontend.tensor import Tensor
from symgrad.ir.primitives.conv import CONV, ConvParams
from symgrad.ir.primitives.pooling import MAX_POOL, MAX_POOL_INDICES, PoolParams


def _window_args(op, d, kernel_size, stride, padding, dilation) -> tuple[tuple[int, ...], ...]:
    """``kernel, stride, padding, dilation`` as ``d`` ints each (``stride`` defaults to the
    kernel, as in PyTorch)."""
    kernel = ntuple(kernel_size, d, "kernel_size", op)
    stride = kernel if stride is None or stride == [] else ntuple(stride, d, "stride", op)
    return kernel, stride, ntuple(padding, d, "padding", op), ntuple(dilation, d, "dilation", op)


def _pool_setup(op, input, d, kernel_size, stride, padding, dilation, ceil_mode):
    x, unbatched = batched(op, as_tensor(input), d)
    kernel, stride, pads, dilation = _window_args(op, d, kernel_size, stride, padding, dilation)
    if any(2 * p > dil * (k - 1) + 1 for p, k, dil in zip(pads, kernel, dilation, strict=True)):
        raise ValueError(
            f"{op}: pad should be at most half of effective kernel size, got padding={padding} "
            f"for kernel_size={kernel_size}"
        )
    spatial = list(x.shape[2:])  # symbolic inside a trace
    outs = [
        out_size(op, spatial[j], kernel[j], stride[j], pads[j], pads[j], dilation[j], ceil_mode)
        for j in range(d)
    ]
    his = list(pads)
    if ceil_mode:  # the last window may run past the padding: pad that much more
        his = [
            max(
                pads[j],
                (outs[j] - 1) * stride[j]
                + dilation[j] * (kernel[j] - 1)
                + 1
                - spatial[j]
                - pads[j],
            )
            for j in range(d)
        ]
    return x, unbatched, kernel, stride, pads, his, dilation, outs


def max_pool(
    input: Tensor,
    d: int,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """N-d max pooling (``d`` spatial dims): the largest value of each window (padding
    counts as ``-inf``; a NaN in a window wins), as PyTorch's ``max_pool{d}d``.  All of a
    window's gradient goes to its first maximum, as in PyTorch.  ``return_indices=True``
    also returns PyTorch's indices: int64 flat positions in each input plane.  Inside
    ``@sg.compile`` the sizes stay symbolic.
    Padding above half the kernel raises ``ShapeError``, as PyTorch refuses it.

    >>> import symgrad as sg
    >>> x = sg.tensor([[[1., 1., 0., 2.]]], requires_grad=True)
    >>> values, indices = max_pool(x, 1, 2, return_indices=True); indices
    tensor([[[0, 3]]])
    >>> values.sum().backward(); x.grad
    tensor([[[1., 0., 0., 1.]]])
    """
    op = f"max_pool{d}d"
    x, unbatched = batched(op, as_tensor(input), d)
    windows = _window_args(op, d, kernel_size, stride, padding, dilation)
    params = PoolParams(*windows, ceil_mode=bool(ceil_mode))
    results = [apply(p, [x], params) for p in (MAX_POOL, MAX_POOL_INDICES)[: 1 + return_indices]]
    if unbatched:
        results = [shape_ops.squeeze(t, 0) for t in results]
    return tuple(results) if return_indices else results[0]


def avg_pool(
    input: Tensor,
    d: int,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """N-d average pooling (``d`` spatial dims), as PyTorch's ``avg_pool{d}d``, with its
    divisors at the borders: with ``count_include_pad`` (the default) the padding counts,
    else only the input's entries do; ``divisor_override`` replaces the divisor.

    >>> import symgrad as sg
    >>> x = sg.tensor([[[1., 2., 3.]]])
    >>> avg_pool(x, 1, 2, padding=1), avg_pool(x, 1, 2, padding=1, count_include_pad=False)
    (tensor([[[0.5, 2.5]]]), tensor([[[1. , 2.5]]]))
    """
    op = f"avg_pool{d}d"
    x, unbatched, kernel, stride, pads, his, _, outs = _pool_setup(
        op, input, d, kernel_size, stride, padding, 1, ceil_mode
    )
    if is_floating(x.dtype):  # window sums: a depthwise convolution with a kernel of ones
        channels = concrete(x.shape[1:2])[0]
        ones = Tensor(np.ones((channels, 1, *kernel), x.dtype))
        params = ConvParams(stride, pads, tuple(his), (1,) * d, channels)
        out = apply(CONV, [x, ones], params)
        if tuple(out.shape[2:]) != tuple(outs):  # the padding above makes these agree
            raise AssertionError(f"{op}: window sums of shape {out.shape}, expected {outs}")
    else:
        win = windows(pad_dims(x, 2, pads, his, 0.0), 2, kernel, stride, (1,) * d, outs)
        out = sum(win, tuple(range(2 + d, 2 + 2 * d)))
    if divisor_override:
        out = out / divisor_override
    elif not ceil_mode and (count_include_pad or not any(pads)):
        out = out / math.prod(kernel)  # every window inside the padded input: sizes stay free
    else:  # PyTorch's divisor: the window clipped to the padded input (or to the input)
        spatial = concrete(x.shape[2:])
        divisor = np.ones((), x.dtype)
        for j in range(d):
            start = np.arange(outs[j]) * stride[j] - pads[j]
            end = np.minimum(start + kernel[j], spatial[j] + pads[j])
            if not count_include_pad:
                start, end = np.maximum(start, 0), np.minimum(end, spatial[j])
            divisor = np.multiply.outer(divisor, (end - start).astype(x.dtype))
        out = out / Tensor(divisor)
    return shape_ops.squeeze(out, 0) if unbatched else out


def max_pool1d(
    input: Tensor,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """1-D max pooling of ``(N, C, L)`` (or ``(C, L)``), as
    ``torch.nn.functional.max_pool1d``; ``stride`` defaults to ``kernel_size``.  A tie's
    gradient goes to the first maximum; ``return_indices=True`` returns ``(values,
    indices)`` (see :func:`max_pool`).

    >>> import symgrad as sg
    >>> max_pool1d(sg.tensor([[[1.0, 3.0, 2.0]]]), 2, stride=1, return_indices=True)
    (tensor([[[3., 3.]]]), tensor([[[1, 1]]]))
    """
    return max_pool(input, 1, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def max_pool2d(
    input: Tensor,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """2-D max pooling of ``(N, C, H, W)`` (or ``(C, H, W)``), as
    ``torch.nn.functional.max_pool2d``; ``stride`` defaults to ``kernel_size``.  A tie's
    gradient goes to the first maximum; ``return_indices=True`` returns ``(values,
    indices)`` (see :func:`max_pool`).

    >>> import symgrad as sg
    >>> max_pool2d(sg.zeros(1, 2, 7, 7), 3, stride=2, padding=1, ceil_mode=True).shape
    (1, 2, 4, 4)
    """
    return max_pool(input, 2, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def avg_pool1d(
    input: Tensor,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """1-D average pooling of ``(N, C, L)`` (or ``(C, L)``), as
    ``torch.nn.functional.avg_pool1d``; ``stride`` defaults to ``kernel_size``.

    >>> import symgrad as sg
    >>> avg_pool1d(sg.tensor([[[1.0, 3.0, 2.0, 4.0]]]), 2)
    tensor([[[2., 3.]]])
    """
    return avg_pool(input, 1, kernel_size, stride, padding, ceil_mode, count_include_pad)


def avg_pool2d(
    input: Tensor,
    kernel_size: IntOrTuple,
    stride: IntOrTuple | None = None,
    padding: IntOrTuple = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """2-D average pooling of ``(N, C, H, W)`` (or ``(C, H, W)``), as
    ``torch.nn.functional.avg_pool2d``; ``stride`` defaults to ``kernel_size``.

    >>> import symgrad as sg
    >>> avg_pool2d(sg.ones(1, 1, 2, 2), 2, padding=1, count_include_pad=False)
    tensor([[[[1., 1.],
              [1., 1.]]]])
    """
    return avg_pool(
        input, 2, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
    )


def adaptive_avg_pool(input: Tensor, d: int, output_size: Any) -> Tensor:
    """Average over PyTorch's adaptive windows: output ``i`` of a dim of size ``L`` averages
    ``floor(i*L/O) .. ceil((i+1)*L/O)`` (windows may overlap); ``d`` spatial dims.  The
    input's spatial sizes are read as numbers (a compiled trace specialises them).

    >>> import symgrad as sg
    >>> adaptive_avg_pool(sg.tensor([[[1., 2., 3.]]]), 1, 2)
    tensor([[[1.5, 2.5]]])
    """
    op = f"adaptive_avg_pool{d}d"
    x, unbatched = batched(op, as_tensor(input), d)
    sizes = (output_size,) * d if isinstance(output_size, int) else tuple(output_size)
    if len(sizes) != d:
        raise ValueError(f"{op}: output_size must be an int or {d} sizes, got {output_size!r}")
    spatial = concrete(x.shape[2:])
    outs = [spatial[j] if sizes[j] is None else int(sizes[j]) for j in range(d)]
    if any(o <= 0 for o in outs):
        raise ShapeError(f"{op}: output_size must be positive, got {output_size!r}")
    lead = x.shape[:2]
    if all(s % o == 0 for s, o in zip(spatial, outs, strict=True)):  # equal windows: a reshape
        split = [n for o, s in zip(outs, spatial, strict=True) for n in (o, s // o)]
        blocks = shape_ops.reshape(x, (*lead, *split))
        out = mean(blocks, tuple(3 + 2 * j for j in range(d)))
        return shape_ops.squeeze(out, 0) if unbatched else out
    arrays, weights = [], np.ones((), x.dtype)
    for j in range(d):
        i = np.arange(outs[j])
        start, end = (i * spatial[j]) // outs[j], -((-(i + 1) * spatial[j]) // outs[j])
        width = int((end - start).max())
        index = np.minimum(start[:, None] + np.arange(width), end[:, None] - 1)
        shape = [1] * (2 * d)
        shape[j], shape[d + j] = outs[j], width
        arrays.append(Tensor(np.ascontiguousarray(index.reshape(shape), np.int64)))
        w = (np.arange(width)[None, :] < (end - start)[:, None]) / (end - start)[:, None]
        weights = np.multiply.outer(weights, w.astype(x.dtype))
    # weights has dims (O0, K0, O1, K1, ...): reorder to (O0, O1, ..., K0, K1, ...)
    weights = weights.transpose([*range(0, 2 * d, 2), *range(1, 2 * d, 2)])
    win = shape_ops.getitem(x, (slice(None), slice(None), *arrays))
    out = sum(win * Tensor(np.ascontiguousarray(weights)), tuple(range(2 + d, 2 + 2 * d)))
    return shape_ops.squeeze(out, 0) if unbatched else out


def adaptive_avg_pool1d(input: Tensor, output_size: int | None) -> Tensor:
    """1-D adaptive average pooling of ``(N, C, L)`` (or ``(C, L)``) to ``output_size``
    positions, as ``torch.nn.functional.adaptive_avg_pool1d``.

    >>> import symgrad as sg
    >>> adaptive_avg_pool1d(sg.tensor([[[1.0, 2.0, 6.0]]]), 2)
    tensor([[[1.5, 4. ]]])
    """
    return adaptive_avg_pool(input, 1, output_size)


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:
    """2-D adaptive average pooling to ``output_size`` (an int, or a pair; ``None`` keeps
    the input size), as ``torch.nn.functional.adaptive_avg_pool2d``.

    >>> import symgrad as sg
    >>> adaptive_avg_pool2d(sg.zeros(2, 3, 5, 7), (2, None)).shape
    (2, 3, 2, 7)
    """
    return adaptive_avg_pool(input, 2, output_size)


__all__ = [
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "max_pool1d",
    "max_pool2d",
]
