"""Shape arithmetic shared by the primitives' shape rules: broadcasting, dims, reductions.

A size is a Python int today; the rules only compare, multiply and add sizes (never
``int(n)`` or ``range(n)``), so a SymPy size (``n``, ``n - 1``) can stand in for one
without rewriting them.
Errors name the op and the shapes.

Example:
    >>> broadcast_shapes("add", (2, 1), (3,))
    (2, 3)
    >>> normalize_dims(-1, (2, 3), "sum"), reduced_shape((2, 3), (1,), keepdim=True)
    ((1,), (2, 1))
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import sympy

from symgrad.errors import ShapeError, shape_str

Size = int | sympy.Expr
Shape = tuple[Size, ...]


def numel(shape: Shape) -> Size:
    """The number of elements of ``shape``."""
    total: Size = 1
    for n in shape:
        total = total * n
    return total


def same_shape(a: Shape, b: Shape) -> bool:
    """``a == b``, comparing ranks first (a tuple compares items first, and comparing a
    traced size with an unrelated one records a guard that would specialise it)."""
    return len(a) == len(b) and tuple(a) == tuple(b)


def broadcast_shapes(op: str, *shapes: Shape) -> Shape:
    """NumPy broadcasting, with an error that names the op and the shapes."""
    ndim = max(len(s) for s in shapes)
    result: list[Size] = [1] * ndim
    for shape in shapes:
        lead = ndim - len(shape)
        for d, n in enumerate(shape):
            have = result[lead + d]
            if n != have and n != 1:
                if have != 1:
                    listed = " with ".join(shape_str(s) for s in shapes)
                    raise ShapeError(f"cannot broadcast {listed} in {op}")
                result[lead + d] = n
    return tuple(result)


def normalize_dim(dim: int, ndim: int, op: str) -> int:
    """One dim index, negative counted from the end, checked against ``ndim``."""
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise ShapeError(f"{op}: dim {dim} is out of range for a tensor with {ndim} dims")
    return int(dim) % max(ndim, 1)


def normalize_dims(dim: int | Iterable[int] | None, shape: Shape, op: str) -> tuple[int, ...]:
    """Reduction dims as sorted non-negative ints; ``None`` (or ``()``) means all dims."""
    ndim = len(shape)
    if dim is None or (isinstance(dim, tuple | list) and len(dim) == 0):
        return tuple(range(ndim))  # PyTorch: dim=() reduces every dim
    if ndim == 0 and dim in (0, -1, (), (0,), (-1,)):
        return ()  # a 0-d tensor has one element: reducing over "its" dim is a no-op
    dims = (dim,) if isinstance(dim, int | np.integer) else tuple(dim)
    out = []
    for d in dims:
        if not isinstance(d, int | np.integer):
            raise TypeError(f"{op}: dim must be an int or a tuple of ints, got {d!r}")
        lo, hi = (-1, 0) if ndim == 0 else (-ndim, ndim - 1)
        if not lo <= d <= hi:
            raise ShapeError(
                f"{op}: dim {d} is out of range for a tensor of shape {shape_str(shape)}"
                f" (valid dims are {lo}..{hi})"
            )
        out.append(int(d) % max(ndim, 1))
    if len(set(out)) != len(out):
        raise ShapeError(f"{op}: dim {dims} repeats a dimension")
    return tuple(sorted(out))


def reduced_shape(shape: Shape, axes: tuple[int, ...], keepdim: bool) -> Shape:
    """The shape after reducing ``axes`` away (kept as 1s when ``keepdim``)."""
    if keepdim:
        return tuple(1 if i in axes else n for i, n in enumerate(shape))
    return tuple(n for i, n in enumerate(shape) if i not in axes)


def is_unit_reshape(src: Shape, dst: Shape) -> bool:
    """True when ``dst`` only adds or removes size-1 dims of ``src`` (a free view)."""
    return [n for n in src if n != 1] == [n for n in dst if n != 1]


def inverse_permutation(axes: tuple[int, ...]) -> tuple[int, ...]:
    """The axes that undo a permutation by ``axes``."""
    inverse = [0] * len(axes)
    for i, a in enumerate(axes):
        inverse[a] = i
    return tuple(inverse)
