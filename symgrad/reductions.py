"""Reductions beyond sum and mean: max/min, amax/amin, argmax/argmin, logsumexp, var, std.

``x.max()`` and ``amax`` split the gradient evenly among tied maxima (as PyTorch);
``x.max(dim)`` returns ``(values, indices)`` and sends the gradient to the index.
``logsumexp`` subtracts the maximum first, so it is finite at logits of ±1000.

Example:
    >>> import symgrad as sg
    >>> x = sg.tensor([[1., 5.], [7., 2.]])
    >>> x.max(), x.amax(dim=1), x.max(dim=0).indices
    (tensor(7.), tensor([5., 7.]), tensor([1, 0]))
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from symgrad import shape_ops
from symgrad.creation import arange
from symgrad.ops import structured as rules
from symgrad.tensor import Tensor
from symgrad.tensor_ops import apply_structured, as_tensor, elementwise, mean, sum


class ValuesIndices(NamedTuple):
    """What ``max(dim)``/``min(dim)`` return, like ``torch.return_types.max``."""

    values: Tensor
    indices: Tensor


def _extreme(x: Tensor, kind: str, dim, keepdim: bool) -> Tensor:
    axes = rules.normalize_dims(dim, x.shape, kind)
    np_fn = np.max if kind == "max" else np.min
    return apply_structured(
        [x],
        lambda v: rules.reduce_extreme(v, kind, axes, keepdim),
        lambda a: np.asarray(np_fn(a, axis=axes, keepdims=keepdim)),
    )


def amax(x, dim=None, keepdim: bool = False) -> Tensor:
    """Largest value over ``dim`` (int, tuple or all); ties share the gradient evenly."""
    return _extreme(as_tensor(x), "max", dim, keepdim)


def amin(x, dim=None, keepdim: bool = False) -> Tensor:
    """Smallest value over ``dim`` (int, tuple or all); ties share the gradient evenly."""
    return _extreme(as_tensor(x), "min", dim, keepdim)


def _arg(x: Tensor, kind: str, dim, keepdim: bool) -> Tensor:
    axis = None if dim is None else rules.normalize_dim(dim, x.ndim, kind)
    np_fn = np.argmax if kind == "argmax" else np.argmin

    def evaluate(a):
        if axis is None:
            flat = np.asarray(np_fn(a))
            return flat.reshape((1,) * a.ndim) if keepdim else flat
        return np.asarray(np_fn(a, axis=axis, keepdims=keepdim))

    return apply_structured(
        [x], lambda v: rules.arg_extreme(v, kind, axis, keepdim), evaluate, differentiable=False
    )


def argmax(x, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the largest value (the first one at ties), over ``dim`` or the flattened tensor."""
    return _arg(as_tensor(x), "argmax", dim, keepdim)


def argmin(x, dim=None, keepdim: bool = False) -> Tensor:
    """Index of the smallest value (the first one at ties), over ``dim`` or the flattened tensor."""
    return _arg(as_tensor(x), "argmin", dim, keepdim)


def take_along_dim(x: Tensor, indices: Tensor, dim: int) -> Tensor:
    """Pick ``x``'s entries at ``indices`` along ``dim`` (shapes otherwise broadcast)."""
    d = rules.normalize_dim(dim, x.ndim, "take_along_dim")
    index = []
    for k in range(x.ndim):
        if k == d:
            index.append(indices)
        else:
            shape = [1] * x.ndim
            shape[k] = x.shape[k]
            index.append(shape_ops.reshape(arange(x.shape[k]), shape))
    return shape_ops.getitem(x, tuple(index))


def max_or_min(x, kind: str, dim=None, keepdim: bool = False):
    """``x.max()`` (a scalar) or ``x.max(dim)`` (values and indices), likewise ``min``."""
    x = as_tensor(x)
    if dim is None:
        return _extreme(x, kind, None, False)
    indices = _arg(x, "arg" + kind, dim, True)
    values = take_along_dim(x, indices, dim)
    if not keepdim:
        values, indices = shape_ops.squeeze(values, dim), shape_ops.squeeze(indices, dim)
    return ValuesIndices(values, indices)


def logsumexp(x, dim=None, keepdim: bool = False) -> Tensor:
    """``log(sum(exp(x)))`` over ``dim``, computed stably (the max is taken out first)."""
    x = as_tensor(x)
    axes = rules.normalize_dims(dim, x.shape, "logsumexp")
    peak = _extreme(x, "max", axes, True).detach()
    total = sum(elementwise("exp", x - peak), axes, True)
    out = elementwise("log", total) + peak
    return out if keepdim else shape_ops.squeeze(out, axes) if axes else out


def var(
    x, dim=None, unbiased: bool | None = None, keepdim: bool = False, *, correction=None
) -> Tensor:
    """Variance over ``dim``; ``correction`` (default 1, or ``unbiased=False`` for 0) as PyTorch."""
    x = as_tensor(x)
    if correction is None:
        correction = 0 if unbiased is False else 1
    axes = rules.normalize_dims(dim, x.shape, "var")
    count = int(np.prod([x.shape[a] for a in axes]))
    centered = x - mean(x, axes, True)
    total = sum(centered * centered, axes, keepdim)
    return elementwise("div", total, max(count - correction, 0))


def std(
    x, dim=None, unbiased: bool | None = None, keepdim: bool = False, *, correction=None
) -> Tensor:
    """Standard deviation: the square root of :func:`var`."""
    return elementwise("sqrt", var(x, dim, unbiased, keepdim, correction=correction))
