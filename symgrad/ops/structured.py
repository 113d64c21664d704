"""Structured (non-elementwise) ops: shape rules, NumPy evaluation and IR builders.

Each builder makes one IR node from Vars and checks its shapes, raising
:class:`~symgrad.errors.ShapeError` that names the op and the shapes.

Example:
    >>> import numpy as np
    >>> from symgrad.ir import Var
    >>> x = Var((2, 3), np.dtype('float64'))
    >>> reduce_sum(x, (1,), keepdim=False).shape
    (2,)
"""

from __future__ import annotations

from collections.abc import Iterable
from math import prod

import numpy as np

from symgrad import ir
from symgrad.errors import ShapeError, shape_str


def normalize_dims(dim: int | Iterable[int] | None, shape: tuple[int, ...], op: str) -> tuple:
    """Reduction dims as sorted non-negative ints; ``None`` means all dims."""
    ndim = len(shape)
    if dim is None:
        return tuple(range(ndim))
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


def reduced_shape(shape: tuple[int, ...], axes: tuple, keepdim: bool) -> tuple[int, ...]:
    """The shape after summing ``axes`` away (kept as 1s when ``keepdim``)."""
    if keepdim:
        return tuple(1 if i in axes else n for i, n in enumerate(shape))
    return tuple(n for i, n in enumerate(shape) if i not in axes)


def broadcast_shapes(op: str, *shapes: tuple[int, ...]) -> tuple[int, ...]:
    """NumPy broadcasting, with an error that names the op and the shapes."""
    ndim = max(len(s) for s in shapes)
    result = [1] * ndim
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


def sum_dtype(dtype: np.dtype) -> np.dtype:
    """Sums of ints and bools are int64, as in PyTorch and NumPy."""
    return dtype if dtype.kind == "f" else np.dtype(np.int64)


def reduce_sum(x: ir.Var, axes: tuple, keepdim: bool) -> ir.Var:
    """``sum`` over normalized ``axes``."""
    shape = reduced_shape(x.shape, axes, keepdim)
    return ir.structured("sum", [x], shape, sum_dtype(x.dtype), params=(axes, keepdim))


def is_unit_reshape(src: tuple[int, ...], dst: tuple[int, ...]) -> bool:
    """True when ``dst`` only adds or removes size-1 dims of ``src`` (a free view)."""
    return [n for n in src if n != 1] == [n for n in dst if n != 1]


def reshape(x: ir.Var, shape: tuple[int, ...]) -> ir.Var:
    """``reshape`` to a shape with the same number of elements."""
    shape = tuple(int(n) for n in shape)
    if prod(shape) != prod(x.shape):
        raise ShapeError(f"cannot reshape {shape_str(x.shape)} to {shape_str(shape)} in reshape")
    if shape == x.shape:
        return x
    lead = len(shape) - x.ndim
    if lead > 0 and shape[lead:] == x.shape and all(n == 1 for n in shape[:lead]):
        return broadcast_to(x, shape)  # only leading 1s: a broadcast, which fuses
    return ir.structured("reshape", [x], shape, x.dtype, params=(shape,))


def broadcast_to(x: ir.Var, shape: tuple[int, ...]) -> ir.Var:
    """``x`` broadcast to ``shape`` (an elementwise identity with a larger output)."""
    if x.shape == tuple(shape):
        return x
    if broadcast_shapes("broadcast_to", x.shape, shape) != tuple(shape):
        raise ShapeError(f"cannot broadcast {shape_str(x.shape)} to {shape_str(shape)}")
    return ir.elementwise(ir.arg(0), [x], shape=tuple(shape), dtype=x.dtype)


def unbroadcast(x: ir.Var, shape: tuple[int, ...]) -> ir.Var:
    """Sum ``x`` back down to ``shape``, the gradient of broadcasting to ``x.shape``."""
    if x.shape == tuple(shape):
        return x
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1
    )
    return reshape(reduce_sum(x, axes, keepdim=True), shape)


def expand_reduced(g: ir.Var, shape: tuple[int, ...], axes: tuple, keepdim: bool) -> ir.Var:
    """The gradient of a sum: ``g`` put back over the summed ``axes`` of ``shape``."""
    if not keepdim:
        g = reshape(g, reduced_shape(shape, axes, keepdim=True))
    return broadcast_to(g, shape)


def normalize_dim(dim: int, ndim: int, op: str) -> int:
    """One dim index, negative counted from the end, checked against ``ndim``."""
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise ShapeError(f"{op}: dim {dim} is out of range for a tensor with {ndim} dims")
    return dim % max(ndim, 1)


def permute(x: ir.Var, axes: tuple[int, ...]) -> ir.Var:
    """Reorder dims: output dim i is input dim ``axes[i]`` (a view)."""
    axes = tuple(normalize_dim(a, x.ndim, "permute") for a in axes)
    if sorted(axes) != list(range(x.ndim)):
        raise ShapeError(
            f"permute: {axes} is not a permutation of the dims of {shape_str(x.shape)}"
        )
    if axes == tuple(range(x.ndim)):
        return x
    shape = tuple(x.shape[a] for a in axes)
    return ir.structured("permute", [x], shape, x.dtype, params=(axes,))


def inverse_permutation(axes: tuple[int, ...]) -> tuple[int, ...]:
    """The axes that undo ``permute(x, axes)``."""
    inverse = [0] * len(axes)
    for i, a in enumerate(axes):
        inverse[a] = i
    return tuple(inverse)


def concat(xs: list[ir.Var], dim: int) -> ir.Var:
    """Join same-rank tensors along ``dim``."""
    if not xs:
        raise ShapeError("cat needs at least one tensor")
    first = xs[0]
    dim = normalize_dim(dim, first.ndim, "cat")
    for x in xs[1:]:
        others_match = all(
            a == b for i, (a, b) in enumerate(zip(x.shape, first.shape, strict=False)) if i != dim
        )
        if x.ndim != first.ndim or not others_match:
            listed = ", ".join(shape_str(v.shape) for v in xs)
            raise ShapeError(f"cat: shapes {listed} differ outside dim {dim}")
    shape = list(first.shape)
    shape[dim] = sum(x.shape[dim] for x in xs)
    dtype = np.result_type(*(x.dtype for x in xs))
    return ir.structured("concat", xs, tuple(shape), dtype, params=(dim,))


def reduce_extreme(x: ir.Var, kind: str, axes: tuple, keepdim: bool) -> ir.Var:
    """``max`` or ``min`` over normalized ``axes`` (values only)."""
    if 0 in x.shape:
        raise ShapeError(f"{kind} of an empty tensor of shape {shape_str(x.shape)} has no value")
    shape = reduced_shape(x.shape, axes, keepdim)
    return ir.structured(kind, [x], shape, x.dtype, params=(axes, keepdim))


def arg_extreme(x: ir.Var, kind: str, axis: int | None, keepdim: bool) -> ir.Var:
    """``argmax``/``argmin``: int64 positions, over one axis or the flattened tensor."""
    if 0 in x.shape:
        raise ShapeError(f"{kind} of an empty tensor of shape {shape_str(x.shape)} has no value")
    if axis is None:
        shape = tuple(1 for _ in x.shape) if keepdim else ()
    else:
        shape = reduced_shape(x.shape, (axis,), keepdim)
    return ir.structured(kind, [x], shape, np.dtype(np.int64), params=(axis, keepdim))
