"""Module-level math functions, as in ``torch``: ``sg.exp(x)``, ``sg.where(c, a, b)``, ...

The elementwise ones are generated from the op table (rows whose ``api`` lists
``"sg"``); the rest call the front end's structured ops.  Each accepts Tensors,
NumPy arrays, lists and (where it makes sense) Python numbers.

Example:
    >>> import symgrad as sg
    >>> sg.maximum(sg.tensor([1., 5.]), 2.0)
    tensor([2., 5.])
"""

from __future__ import annotations

from symgrad.errors import ShapeError, shape_str
from symgrad.frontend import apply, composite, reductions, shape_ops
from symgrad.frontend.apply import as_tensor, table_function
from symgrad.frontend.einsum import einsum  # noqa: F401  (exported in __all__)
from symgrad.frontend.tensor import Tensor
from symgrad.ir.elementwise_ops import OPS

ELEMENTWISE_FUNCTIONS = {name: table_function(row) for name, row in OPS.items() if "sg" in row.api}
globals().update(ELEMENTWISE_FUNCTIONS)


def sum(x, dim=None, keepdim: bool = False) -> Tensor:
    """Sum over ``dim`` (an int, a tuple of ints, or all elements when None), like
    ``torch.sum``; ``keepdim=True`` keeps the summed dims with size 1.

    Differentiable; the gradient broadcasts the upstream back over the summed dims.
    Integer and boolean tensors sum to int64, as in PyTorch.

    >>> import symgrad as sg
    >>> x = sg.tensor([[1., 2.], [3., 4.]])
    >>> sg.sum(x), sg.sum(x, dim=0), sg.sum(x, dim=1, keepdim=True).shape
    (tensor(10.), tensor([4., 6.]), (2, 1))
    """
    return apply.sum(as_tensor(x), dim, keepdim)


def mean(x, dim=None, keepdim: bool = False) -> Tensor:
    """Mean over ``dim`` (an int, a tuple of ints, or all elements when None), like
    ``torch.mean``; ``keepdim=True`` keeps the reduced dims with size 1.

    Inside ``@sg.compile`` the divisor stays symbolic, so a new batch size does not
    retrace.

    >>> import symgrad as sg
    >>> x = sg.tensor([[1., 2.], [3., 4.]])
    >>> sg.mean(x), sg.mean(x, dim=1)
    (tensor(2.5), tensor([1.5, 3.5]))
    """
    return apply.mean(as_tensor(x), dim, keepdim)


def clamp(x, min=None, max=None) -> Tensor:
    """Limit values to ``[min, max]`` (either bound may be None), like ``torch.clamp``.

    The gradient is 1 inside the interval, boundaries included, and 0 outside.

    >>> import symgrad as sg
    >>> sg.clamp(sg.tensor([-2., 0.5, 3.]), min=0.0, max=1.0)
    tensor([0. , 0.5, 1. ])
    """
    return apply.clamp(as_tensor(x), min, max)


clip = clamp


def matmul(a, b) -> Tensor:
    """Matrix product (``a @ b``) with NumPy's rules: a 1-D operand is promoted to a
    matrix (and the added dim dropped again), leading dims broadcast as a batch.

    Shapes that do not fit raise ``ShapeError`` naming both shapes.

    >>> import symgrad as sg
    >>> a, b = sg.ones(2, 3), sg.ones(3, 4)
    >>> sg.matmul(a, b).shape, (a @ sg.ones(3)).shape, sg.matmul(sg.ones(5, 2, 3), b).shape
    ((2, 4), (2,), (5, 2, 4))
    """
    return shape_ops.matmul(a, b)


def _vector(op: str, x: object) -> Tensor:
    x = as_tensor(x)
    if x.ndim != 1:
        raise ShapeError(f"{op} needs 1-D tensors, got shape {shape_str(x.shape)}")
    return x


def dot(input, other) -> Tensor:
    """The inner product of two 1-D tensors of one length, like ``torch.dot``.

    >>> dot([1.0, 2.0], [3.0, 4.0])
    tensor(11.)
    """
    a, b = _vector("dot", input), _vector("dot", other)
    if a.shape[0] != b.shape[0]:
        raise ShapeError(f"dot: lengths {a.shape[0]} and {b.shape[0]} differ")
    return shape_ops.matmul(a, b)


vdot = dot  # real tensors: no conjugate


def outer(input, vec2) -> Tensor:
    """The outer product of two 1-D tensors, like ``torch.outer``.

    >>> outer([1.0, 2.0], [3.0, 4.0, 5.0]).shape
    (2, 3)
    """
    a, b = _vector("outer", input), _vector("outer", vec2)
    return shape_ops.unsqueeze(a, 1) * shape_ops.unsqueeze(b, 0)


ger = outer


def cat(tensors, dim: int = 0) -> Tensor:
    """Join tensors along an existing dim, like ``torch.cat``; every other dim must match.

    >>> import symgrad as sg
    >>> sg.cat([sg.zeros(2, 3), sg.ones(1, 3)]).shape, sg.cat([sg.ones(2, 1)] * 3, dim=1).shape
    ((3, 3), (2, 3))
    """
    return shape_ops.cat(tensors, dim)


concat = concatenate = cat


def stack(tensors, dim: int = 0) -> Tensor:
    """Join same-shaped tensors along a new dim, like ``torch.stack``.

    >>> import symgrad as sg
    >>> sg.stack([sg.zeros(3), sg.ones(3)]).shape, sg.stack([sg.zeros(3), sg.ones(3)], dim=1).shape
    ((2, 3), (3, 2))
    """
    return shape_ops.stack(tensors, dim)


def reshape(x, *shape) -> Tensor:
    """``x`` with a new shape."""
    return shape_ops.reshape(as_tensor(x), *shape)


def transpose(x, dim0: int, dim1: int) -> Tensor:
    """Swap two dims."""
    return shape_ops.transpose(as_tensor(x), dim0, dim1)


def permute(x, *dims) -> Tensor:
    """Reorder dims."""
    return shape_ops.permute(as_tensor(x), *dims)


def flatten(x, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims ``start_dim..end_dim``."""
    return shape_ops.flatten(as_tensor(x), start_dim, end_dim)


def squeeze(x, dim=None) -> Tensor:
    """Drop size-1 dims."""
    return shape_ops.squeeze(as_tensor(x), dim)


def unsqueeze(x, dim: int) -> Tensor:
    """Insert a size-1 dim."""
    return shape_ops.unsqueeze(as_tensor(x), dim)


def broadcast_to(x, shape) -> Tensor:
    """``x`` broadcast to ``shape``."""
    return shape_ops.broadcast_to(as_tensor(x), shape)


def max(x, dim=None, keepdim: bool = False):
    """Like ``torch.max``: the largest value of ``x``, or ``(values, indices)`` along ``dim``.

    The gradient goes to the largest entries; ties share it evenly (``sg.amax`` is the
    same without indices).

    >>> import symgrad as sg
    >>> x = sg.tensor([[1., 5.], [7., 2.]])
    >>> sg.max(x), sg.max(x, dim=1).values, sg.max(x, dim=1).indices
    (tensor(7.), tensor([5., 7.]), tensor([1, 0]))
    """
    return reductions.max_or_min(x, "max", dim, keepdim)


def min(x, dim=None, keepdim: bool = False):
    """Like ``torch.min``: the smallest value of ``x``, or ``(values, indices)`` along ``dim``.

    >>> import symgrad as sg
    >>> sg.min(sg.tensor([[1., 5.], [7., 2.]]), dim=0).values
    tensor([1., 2.])
    """
    return reductions.max_or_min(x, "min", dim, keepdim)


amax, amin, argmax, argmin = reductions.amax, reductions.amin, reductions.argmax, reductions.argmin
logsumexp, var, std = reductions.logsumexp, reductions.var, reductions.std
take_along_dim = reductions.take_along_dim
split, chunk, flip, roll = composite.split, composite.chunk, composite.flip, composite.roll
all, any = composite.reduce_all, composite.reduce_any
logical_and, logical_or = composite.logical_and, composite.logical_or
logical_xor, logical_not = composite.logical_xor, composite.logical_not
t, tril, triu, masked_fill, where, pow, numel = (
    composite.t,
    composite.tril,
    composite.triu,
    composite.masked_fill,
    composite.where,  # also the one-argument form (indices of nonzeros)
    composite.pow,
    composite.numel,
)

# What ``import symgrad`` exposes from here: ``sg.exp``, ``sg.sum``, ``sg.cat``, ...
__all__ = sorted(
    {
        *ELEMENTWISE_FUNCTIONS,
        *("sum", "mean", "clamp", "clip", "matmul", "cat", "concat", "concatenate", "stack"),
        *("reshape", "transpose", "permute", "flatten", "squeeze", "unsqueeze", "broadcast_to"),
        *("max", "min", "amax", "amin", "argmax", "argmin", "logsumexp", "var", "std"),
        "take_along_dim",
        *("split", "chunk", "flip", "roll", "t", "tril", "triu", "masked_fill", "where"),
        *("pow", "numel", "einsum", "all", "any", "dot", "vdot", "outer", "ger"),
        *("logical_and", "logical_or", "logical_xor", "logical_not"),
    }
)
