"""Ops made of other differentiable ops: split, chunk, flip, roll, repeat, tril, triu, ...

Each is a few slices, concatenations, reshapes, broadcasts or ``where`` with a
constant mask, so its gradient comes from theirs and it works inside
:func:`symgrad.compile` as it does eagerly.

Example:
    >>> import symgrad as sg
    >>> x = sg.arange(6).reshape(2, 3)
    >>> x.flip(1)[0], x.roll(1, 1)[0], x.repeat(1, 2)[0]
    (tensor([2, 1, 0]), tensor([2, 0, 1]), tensor([0, 1, 2, 0, 1, 2]))
    >>> [p.shape for p in x.split([1, 2], dim=1)]
    [(2, 1), (2, 2)]
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence

import numpy as np

from symgrad.errors import ShapeError, shape_str
from symgrad.frontend import apply, shape_ops
from symgrad.frontend.apply import as_tensor, cast, check_number, elementwise, parse_sizes
from symgrad.frontend.tensor import Tensor
from symgrad.ir.shapes import normalize_dim


def _along(dim: int, item: object) -> tuple:
    """An index that applies ``item`` to dim ``dim`` and takes everything else."""
    return (slice(None),) * dim + (item,)


def _dims(dims: int | Sequence[int], ndim: int, op: str) -> list[int]:
    listed = [dims] if isinstance(dims, int | np.integer) else list(dims)
    normal = [normalize_dim(int(d), ndim, op) for d in listed]
    if len(set(normal)) != len(normal):
        raise ValueError(f"{op}: dims {tuple(listed)} name a dim more than once")
    return normal


def t(x: Tensor) -> Tensor:
    """The transpose of a matrix; 0-d and 1-d tensors come back as they are (``x.t()``).

    >>> import symgrad as sg
    >>> sg.ones(2, 3).t().shape
    (3, 2)
    """
    if x.ndim > 2:
        raise ShapeError(f"t() expects a tensor with <= 2 dimensions, but self is {x.ndim}D")
    return shape_ops.transpose(x, 0, 1) if x.ndim == 2 else x


def split(
    x: Tensor, split_size_or_sections: int | Sequence[int], dim: int = 0
) -> tuple[Tensor, ...]:
    """Pieces of ``x`` along ``dim``: of one size (the last may be smaller), or of the
    listed sizes.

    >>> import symgrad as sg
    >>> [p.tolist() for p in sg.arange(5).split(2)]
    [[0, 1], [2, 3], [4]]
    """
    x = as_tensor(x)
    d = normalize_dim(dim, x.ndim, "split")
    n = x.shape[d]
    if isinstance(split_size_or_sections, int | np.integer):
        size = int(split_size_or_sections)
        if size < 0 or (size == 0 and n != 0):
            raise ValueError(f"split: split_size must be positive, got {size}")
        sizes = [size] * (n // size) + ([n % size] if n % size else []) if n else [0]
    else:
        sizes = [operator.index(s) for s in split_size_or_sections]
        if any(s < 0 for s in sizes) or sum(sizes) != n:
            raise ValueError(
                f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's "
                f"size at dimension {d}), but got split_sizes={sizes}"
            )
    pieces, start = [], 0
    for size in sizes:
        pieces.append(shape_ops.getitem(x, _along(d, slice(start, start + size))))
        start += size
    return tuple(pieces)


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """``chunks`` pieces of (nearly) equal size along ``dim``, as ``torch.chunk``: each of
    ``ceil(n / chunks)``, so there may be fewer than ``chunks``.

    >>> import symgrad as sg
    >>> [p.tolist() for p in sg.arange(6).chunk(4)]
    [[0, 1], [2, 3], [4, 5]]
    """
    x = as_tensor(x)
    chunks = operator.index(chunks)
    if chunks <= 0:
        raise ValueError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    d = normalize_dim(dim, x.ndim, "chunk")
    size = math.ceil(x.shape[d] / chunks)
    if size == 0:
        return tuple(shape_ops.getitem(x, _along(d, slice(0, 0))) for _ in range(chunks))
    return split(x, size, d)


def flip(x: Tensor, *dims) -> Tensor:
    """``x`` reversed along ``dims``: ``x.flip(0)``, ``x.flip((0, 1))``.

    >>> import symgrad as sg
    >>> sg.flip(sg.arange(3), 0)
    tensor([2, 1, 0])
    """
    x = as_tensor(x)
    wanted = set(_dims(parse_sizes(dims), x.ndim, "flip"))
    if not wanted:
        return x
    index = tuple(slice(None, None, -1) if d in wanted else slice(None) for d in range(x.ndim))
    return shape_ops.getitem(x, index)


def roll(x: Tensor, shifts: int | Sequence[int], dims: int | Sequence[int] | None = None) -> Tensor:
    """Shift elements along ``dims`` (the flattened tensor if none), wrapping around.

    >>> import symgrad as sg
    >>> sg.roll(sg.arange(4), 1)
    tensor([3, 0, 1, 2])
    """
    x = as_tensor(x)
    shift_list = [shifts] if isinstance(shifts, int | np.integer) else list(shifts)
    if dims is None:
        if len(shift_list) != 1:
            raise ValueError(f"roll: {len(shift_list)} shifts need as many dims, got none")
        return shape_ops.reshape(roll(shape_ops.flatten(x), shift_list, 0), x.shape)
    dim_list = [dims] if isinstance(dims, int | np.integer) else list(dims)
    if len(dim_list) != len(shift_list):
        raise ValueError(
            f"roll: shifts and dimensions must align, got {len(shift_list)} shifts and "
            f"{len(dim_list)} dims"
        )
    out = x
    for shift, dim in zip(shift_list, dim_list, strict=True):
        d = normalize_dim(int(dim), x.ndim, "roll")
        n = operator.index(x.shape[d])
        s = operator.index(shift) % n if n else 0
        if s:
            tail = shape_ops.getitem(out, _along(d, slice(n - s, None)))
            head = shape_ops.getitem(out, _along(d, slice(0, n - s)))
            out = shape_ops.cat([tail, head], d)
    return out


def repeat(x: Tensor, *sizes) -> Tensor:
    """``x`` tiled ``sizes[i]`` times along dim ``i`` (leading new dims if more sizes than dims).

    >>> import symgrad as sg
    >>> sg.arange(2).repeat(2, 2)
    tensor([[0, 1, 0, 1],
            [0, 1, 0, 1]])
    """
    reps = parse_sizes(sizes)
    if len(reps) < x.ndim:
        raise ShapeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions "
            f"of tensor: {reps} for a tensor of shape {shape_str(x.shape)}"
        )
    if any(r < 0 for r in reps):
        raise ValueError(f"repeat: sizes must be non-negative, got {reps}")
    shape = (1,) * (len(reps) - x.ndim) + tuple(x.shape)
    spread = shape_ops.reshape(x, tuple(v for n in shape for v in (1, n)))
    tiled = shape_ops.broadcast_to(
        spread, tuple(v for r, n in zip(reps, shape, strict=True) for v in (r, n))
    )
    return shape_ops.reshape(tiled, tuple(r * n for r, n in zip(reps, shape, strict=True)))


def expand_as(x: Tensor, other: Tensor) -> Tensor:
    """``x`` broadcast to ``other``'s shape.

    >>> import symgrad as sg
    >>> sg.ones(3, 1).expand_as(sg.zeros(3, 4)).shape
    (3, 4)
    """
    return shape_ops.expand(x, tuple(other.shape))


def view_as(x: Tensor, other: Tensor) -> Tensor:
    """``x`` reshaped to ``other``'s shape.

    >>> import symgrad as sg
    >>> sg.arange(6).view_as(sg.zeros(2, 3)).shape
    (2, 3)
    """
    return shape_ops.reshape(x, tuple(other.shape))


def _zero(x: Tensor) -> object:
    return False if x.dtype == np.bool_ else 0


def _triangle(x: Tensor, diagonal: int, lower: bool, op: str) -> Tensor:
    x = as_tensor(x)
    if x.ndim < 2:
        raise ShapeError(f"{op}: input tensor must have at least 2 dimensions, got {x.ndim}")
    rows, cols = (operator.index(n) for n in x.shape[-2:])
    if lower:
        mask = np.tri(rows, cols, k=operator.index(diagonal), dtype=bool)
    else:
        mask = ~np.tri(rows, cols, k=operator.index(diagonal) - 1, dtype=bool)
    return elementwise("where", Tensor(mask), x, _zero(x))


def tril(x: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two dims (on and below ``diagonal``), zeros elsewhere.

    >>> import symgrad as sg
    >>> sg.tril(sg.ones(2, 2))
    tensor([[1., 0.],
            [1., 1.]])
    """
    return _triangle(x, diagonal, True, "tril")


def triu(x: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two dims (on and above ``diagonal``), zeros elsewhere.

    >>> import symgrad as sg
    >>> sg.triu(sg.ones(2, 2), 1)
    tensor([[0., 1.],
            [0., 0.]])
    """
    return _triangle(x, diagonal, False, "triu")


def masked_fill(x: Tensor, mask: Tensor, value: object) -> Tensor:
    """``x`` with ``value`` where the boolean ``mask`` is true (shapes broadcast); keeps
    ``x``'s dtype.  A tensor ``value`` (0-d) gets its gradient too.

    >>> import symgrad as sg
    >>> sg.tensor([1., 2., 3.]).masked_fill(sg.tensor([True, False, True]), 0.0)
    tensor([0., 2., 0.])
    """
    x, mask = as_tensor(x), as_tensor(mask)
    if mask.dtype != np.bool_:
        raise TypeError(
            f"masked_fill only supports boolean masks, but got mask with dtype {mask.dtype}"
        )
    check_number(value, "value", "masked_fill")
    if isinstance(value, Tensor | np.ndarray):
        value = as_tensor(value)
        if value.ndim:
            raise ValueError(
                "masked_fill only supports a 0-dimensional value tensor, but got tensor with "
                f"{value.ndim} dimension(s)"
            )
    elif isinstance(value, np.generic):
        value = value.item()
    out = elementwise("where", mask, value, x)
    return out if out.dtype == x.dtype else cast(out, x.dtype)


def where(condition: Tensor, x: object = None, y: object = None):
    """``x`` where ``condition`` holds, else ``y`` (shapes broadcast); with only a condition,
    the indices of its nonzero entries, one tensor per dim (as ``torch.where``).

    >>> import symgrad as sg
    >>> sg.where(sg.tensor([1., -2.]) > 0, sg.tensor([1., -2.]), 0.0)
    tensor([1., 0.])
    """
    if x is None and y is None:
        values = as_tensor(condition).numpy()
        return tuple(Tensor(i.astype(np.int64)) for i in np.nonzero(values))
    if x is None or y is None:
        raise TypeError("where() needs both x and y, or neither")
    if not isinstance(condition, Tensor | np.ndarray | list | tuple | bool | np.bool_):
        raise TypeError(f"where(): condition must be a tensor, not {type(condition).__name__}")
    _check_operands("where", x=x, y=y)
    return elementwise("where", as_tensor(condition), x, y)


def _check_operands(op: str, **operands: object) -> None:
    for name, value in operands.items():
        if not isinstance(value, Tensor | np.ndarray | list | tuple | int | float | np.generic):
            raise TypeError(
                f"{op}(): argument '{name}' must be a tensor or a number, "
                f"not {type(value).__name__}"
            )


def pow(input: object, exponent: object) -> Tensor:
    """``input ** exponent`` elementwise; either may be a Python number.

    >>> import symgrad as sg
    >>> sg.pow(sg.tensor([2., 3.]), 2), sg.pow(2, sg.tensor([3.]))
    (tensor([4., 9.]), tensor([8.]))
    """
    _check_operands("pow", input=input, exponent=exponent)
    if not isinstance(input, Tensor) and not isinstance(exponent, Tensor):
        input = as_tensor(input)
    return elementwise("pow", input, exponent)


def numel(x: Tensor) -> int:
    """The number of elements of ``x``."""
    return as_tensor(x).numel()


def _reduced_count(x: Tensor, dim) -> int:
    dims = range(x.ndim) if dim is None else _dims(dim, x.ndim, "all")
    return math.prod(x.shape[d] for d in dims)


def reduce_all(x: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
    """Whether every element (over ``dim``) is nonzero, as a bool tensor.

    >>> import symgrad as sg
    >>> sg.all(sg.tensor([1., 0.])), sg.tensor([[1, 2], [0, 3]]).all(dim=1)
    (tensor(False), tensor([ True, False]))
    """
    x = as_tensor(x)
    nonzero = apply.sum(elementwise("ne", x, 0), dim, keepdim)
    return elementwise("eq", nonzero, _reduced_count(x, dim))


def reduce_any(x: Tensor, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
    """Whether some element (over ``dim``) is nonzero, as a bool tensor.

    >>> import symgrad as sg
    >>> sg.any(sg.tensor([0, 0, 3]))
    tensor(True)
    """
    x = as_tensor(x)
    return elementwise("gt", apply.sum(elementwise("ne", x, 0), dim, keepdim), 0)


def _logical(op: str, *operands: object) -> Tensor:
    for operand in operands:
        dtype = operand.dtype if isinstance(operand, Tensor) else np.asarray(operand).dtype
        if dtype != np.bool_:
            raise TypeError(
                f"{op} is supported on bool tensors only, got dtype {dtype}; compare first "
                "(x > 0) or use sg.logical_and/logical_or/logical_not"
            )
    return _LOGICAL[op](*operands)


def logical_and(a: object, b: object) -> Tensor:
    """Elementwise ``a and b`` (nonzero is true).

    >>> import symgrad as sg
    >>> sg.logical_and(sg.tensor([1, 0, 2]), sg.tensor([True, True, False]))
    tensor([ True, False, False])
    """
    return elementwise("where", _truth(a), _truth(b), False)


def logical_or(a: object, b: object) -> Tensor:
    """Elementwise ``a or b`` (nonzero is true)."""
    return elementwise("where", _truth(a), True, _truth(b))


def logical_xor(a: object, b: object) -> Tensor:
    """Elementwise ``a xor b`` (nonzero is true)."""
    return elementwise("ne", _truth(a), _truth(b))


def logical_not(a: object) -> Tensor:
    """Elementwise ``not a`` (nonzero is true)."""
    return elementwise("eq", _truth(a), False)


def _truth(x: object) -> object:
    if isinstance(x, bool | np.bool_):
        return bool(x)
    x = as_tensor(x)
    return x if x.dtype == np.bool_ else elementwise("ne", x, 0)


_LOGICAL = {"&": logical_and, "|": logical_or, "^": logical_xor, "~": logical_not}
