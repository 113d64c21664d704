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

import math
from typing import NamedTuple

import numpy as np

from symgrad import ir
from symgrad.frontend import shape_ops
from symgrad.frontend.apply import apply, as_tensor, elementwise, mean, sum
from symgrad.frontend.creation import positions
from symgrad.frontend.tensor import Tensor
from symgrad.ir.shapes import normalize_dim, normalize_dims, numel


class ValuesIndices(NamedTuple):
    """What ``max(dim)``/``min(dim)`` return, like ``torch.return_types.max``: a named
    tuple of ``values`` and ``indices`` (int64).

    >>> import symgrad as sg
    >>> values, indices = sg.tensor([[1., 5.], [7., 2.]]).max(dim=1)
    >>> values, indices
    (tensor([5., 7.]), tensor([1, 0]))
    """

    values: Tensor
    indices: Tensor


def _extreme(x: Tensor, primitive: ir.Primitive, dim, keepdim: bool) -> Tensor:
    axes = normalize_dims(dim, x.shape, primitive.name)
    return apply(primitive, [x], ir.ReduceParams(axes, keepdim))


def amax(x, dim=None, keepdim: bool = False) -> Tensor:
    """Largest value over ``dim`` (an int, a tuple, or all dims when ``None``), as
    ``torch.amax``; ``keepdim`` keeps the reduced dims as size 1.  Tied maxima share the
    gradient evenly, as in PyTorch.

    >>> import symgrad as sg
    >>> x = sg.tensor([[1., 5.], [5., 2.]], requires_grad=True)
    >>> sg.amax(x, dim=1), sg.amax(x)
    (tensor([5., 5.], grad_fn=<recorded>), tensor(5., grad_fn=<recorded>))
    >>> sg.amax(x).backward(); x.grad
    tensor([[0. , 0.5],
            [0.5, 0. ]])
    """
    return _extreme(as_tensor(x), ir.MAX, dim, keepdim)


def amin(x, dim=None, keepdim: bool = False) -> Tensor:
    """Smallest value over ``dim`` (an int, a tuple, or all dims when ``None``), as
    ``torch.amin``; tied minima share the gradient evenly.

    >>> import symgrad as sg
    >>> sg.amin(sg.tensor([[1., 5.], [7., 2.]]), dim=0, keepdim=True)
    tensor([[1., 2.]])
    """
    return _extreme(as_tensor(x), ir.MIN, dim, keepdim)


def _arg(x: Tensor, primitive: ir.Primitive, dim, keepdim: bool) -> Tensor:
    axis = None if dim is None else normalize_dim(dim, x.ndim, primitive.name)
    return apply(primitive, [x], ir.ArgParams(axis, keepdim))


def argmax(x, dim=None, keepdim: bool = False) -> Tensor:
    """Index (int64) of the largest value, over ``dim`` or the flattened tensor, as
    ``torch.argmax``; at ties, the first one.  It has no gradient.

    >>> import symgrad as sg
    >>> x = sg.tensor([[1., 5.], [7., 7.]])
    >>> sg.argmax(x), sg.argmax(x, dim=1)
    (tensor(2), tensor([1, 0]))
    """
    return _arg(as_tensor(x), ir.ARGMAX, dim, keepdim)


def argmin(x, dim=None, keepdim: bool = False) -> Tensor:
    """Index (int64) of the smallest value, over ``dim`` or the flattened tensor, as
    ``torch.argmin``; at ties, the first one.  It has no gradient.

    >>> import symgrad as sg
    >>> sg.argmin(sg.tensor([[1., 5.], [0., 0.]]), dim=1, keepdim=True)
    tensor([[0],
            [0]])
    """
    return _arg(as_tensor(x), ir.ARGMIN, dim, keepdim)


def take_along_dim(x: Tensor, indices: Tensor, dim: int) -> Tensor:
    """Pick ``x``'s entries at integer ``indices`` along ``dim``, as
    ``torch.take_along_dim`` (the other dims broadcast); ``dim`` is required.  The
    gradient is scattered back to the picked entries.

    >>> import symgrad as sg
    >>> x = sg.tensor([[10., 20., 30.], [40., 50., 60.]])
    >>> sg.take_along_dim(x, sg.tensor([[2], [0]]), dim=1)
    tensor([[30.],
            [40.]])
    """
    d = normalize_dim(dim, x.ndim, "take_along_dim")
    index = []
    for k in range(x.ndim):
        if k == d:
            index.append(indices)
        else:
            shape = [1] * x.ndim
            shape[k] = x.shape[k]
            index.append(shape_ops.reshape(positions(x.shape[k]), shape))
    return shape_ops.getitem(x, tuple(index))


def max_or_min(x, kind: str, dim=None, keepdim: bool = False):
    """``x.max()`` (a scalar) or ``x.max(dim)`` (a :class:`ValuesIndices`), likewise
    ``min`` (``kind`` is ``"max"`` or ``"min"``), as ``torch.max``/``torch.min`` with one
    tensor.  With ``dim`` the gradient goes to the index found; without, tied extremes
    share it evenly.  (``torch.max(a, b)``, the elementwise form, is ``sg.maximum``.)

    >>> import symgrad as sg
    >>> x = sg.tensor([[1., 5.], [7., 2.]])
    >>> max_or_min(x, "min"), max_or_min(x, "max", dim=0).indices
    (tensor(1.), tensor([1, 0]))
    """
    x = as_tensor(x)
    values_op, indices_op = (ir.MAX, ir.ARGMAX) if kind == "max" else (ir.MIN, ir.ARGMIN)
    if dim is None:
        return _extreme(x, values_op, None, False)
    indices = _arg(x, indices_op, dim, True)
    values = take_along_dim(x, indices, dim)
    if not keepdim:
        values, indices = shape_ops.squeeze(values, dim), shape_ops.squeeze(indices, dim)
    return ValuesIndices(values, indices)


def logsumexp(x, dim=None, keepdim: bool = False) -> Tensor:
    """``log(sum(exp(x)))`` over ``dim`` (all dims when ``None``), as ``torch.logsumexp``,
    computed stably: the max is taken out first, so large inputs neither overflow nor
    lose their gradient, and a row of ``-inf`` gives ``-inf`` (not nan).

    >>> import symgrad as sg
    >>> sg.logsumexp(sg.tensor([[1000., 1000.], [0., float("-inf")]]), dim=1)
    tensor([1000.69314718,    0.        ])
    """
    x = as_tensor(x)
    axes = normalize_dims(dim, x.shape, "logsumexp")
    peak = _extreme(x, ir.MAX, axes, True).detach()
    if peak.dtype.kind == "f":
        # An infinite max is taken out as 0 (as PyTorch): a row of -inf gives -inf, not nan.
        peak = elementwise("where", elementwise("isinf", peak), 0.0, peak)
    total = sum(elementwise("exp", x - peak), axes, True)
    out = elementwise("log", total) + peak
    return out if keepdim else shape_ops.squeeze(out, axes) if axes else out


def var(
    x, dim=None, unbiased: bool | None = None, keepdim: bool = False, *, correction=None
) -> Tensor:
    """Variance over ``dim`` (all dims when ``None``), as ``torch.var``: the sum of
    squared deviations over ``count - correction`` (``correction`` defaults to 1;
    ``unbiased=False`` means 0).  With no degrees of freedom left it is nan or inf,
    with PyTorch's gradient.

    >>> import symgrad as sg
    >>> x = sg.tensor([[1., 2., 3.], [2., 2., 2.]])
    >>> sg.var(x, dim=1), sg.var(x, dim=1, correction=0)
    (tensor([1., 0.]), tensor([0.66666667, 0.        ]))
    """
    x = as_tensor(x)
    if correction is None:
        correction = 0 if unbiased is False else 1
    axes = normalize_dims(dim, x.shape, "var")
    count = numel(tuple(x.shape[a] for a in axes))
    if count - correction > 0:
        centered = x - mean(x, axes, True)
        return elementwise("div", sum(centered * centered, axes, keepdim), count - correction)
    # No degrees of freedom: total / 0 (nan for one element, else inf), with PyTorch's
    # gradient inf * g * (x - mean).  The path through the mean (0 where finite) is left out,
    # as PyTorch does: SymPy would cancel it against the direct path and give 0, not nan.
    centered = x - mean(x, axes, True).detach()
    with np.errstate(invalid="ignore"):
        return elementwise("mul", sum(centered * centered, axes, keepdim), math.inf)


def std(
    x, dim=None, unbiased: bool | None = None, keepdim: bool = False, *, correction=None
) -> Tensor:
    """Standard deviation: the square root of :func:`var` (same arguments), as
    ``torch.std``.  Where it is 0 (a constant tensor) its gradient is 0, not nan.

    >>> import symgrad as sg
    >>> x = sg.tensor([2., 2., 2.], requires_grad=True)
    >>> s = sg.std(x); s.backward(); s, x.grad
    (tensor(0., grad_fn=<recorded>), tensor([0., 0., 0.]))
    """
    return elementwise("std_sqrt", var(x, dim, unbiased, keepdim, correction=correction))
