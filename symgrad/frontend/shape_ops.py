"""Shape ops on Tensors: reshape, transpose, squeeze, expand, cat, stack, indexing, matmul.

Each records one IR node (a view where it can be) and computes its value with
NumPy in eager mode.

Example:
    >>> import symgrad as sg
    >>> x = sg.arange(6.0).reshape(2, 3)
    >>> x.T.shape, x[:, ::-1][0], (x @ x.T).shape
    ((3, 2), tensor([2., 1., 0.]), (2, 2))
"""

from __future__ import annotations

from collections.abc import Sequence
from math import prod

import numpy as np

from symgrad import ir
from symgrad.errors import ShapeError, TraceError, shape_str
from symgrad.frontend.apply import (
    apply,
    as_tensor,
    assign,
    broadcast,
    cast,
    elementwise,
    filled,
    parse_sizes,
)
from symgrad.frontend.tensor import Tensor
from symgrad.frontend.views import Read, WriteBack, mark_view
from symgrad.ir.primitives.concat import ConcatParams
from symgrad.ir.primitives.indexing import (
    ARRAY,
    SLICE,
    GatherParams,
    ScatterAddParams,
    expand_index,
    plan_index,
)
from symgrad.ir.primitives.permute import PermuteParams
from symgrad.ir.primitives.slicing import SliceAddParams, SliceParams, slice_bounds
from symgrad.ir.shapes import normalize_dim, normalize_dims, numel, same_shape
from symgrad.recording import RECORDING


def reshape(x: Tensor, *shape) -> Tensor:
    """The same elements in a new shape; one size may be ``-1`` (inferred)."""
    sizes = list(parse_sizes(shape))
    if sizes.count(-1) > 1:
        raise ShapeError(f"reshape: only one size may be -1, got {tuple(sizes)}")
    if -1 in sizes:
        known = prod(n for n in sizes if n != -1)
        total = numel(x.shape)
        if known == 0 or total % known:
            raise ShapeError(f"cannot reshape {shape_str(x.shape)} to {tuple(sizes)} in reshape")
        sizes[sizes.index(-1)] = total // known
    return apply(ir.RESHAPE, [x], ir.ReshapeParams(tuple(sizes)))


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims ``start_dim..end_dim`` into one."""
    if x.ndim == 0:
        return reshape(x, 1)
    start = normalize_dim(start_dim, x.ndim, "flatten")
    end = normalize_dim(end_dim, x.ndim, "flatten")
    merged = prod(x.shape[start : end + 1])
    return reshape(x, (*x.shape[:start], merged, *x.shape[end + 1 :]))


def permute(x: Tensor, *dims) -> Tensor:
    """Reorder dims: output dim ``i`` is input dim ``dims[i]``."""
    axes = parse_sizes(dims)
    if len(axes) != x.ndim:
        raise ShapeError(f"permute: {axes} does not list the {x.ndim} dims of {shape_str(x.shape)}")
    normal = tuple(normalize_dim(a, x.ndim, "permute") for a in axes)
    params = PermuteParams(normal)
    return mark_view(apply(ir.PERMUTE, [x], params), x, _permuted_back(normal), _permuted(params))


def _permuted(params: PermuteParams) -> Read:
    return lambda base: apply(ir.PERMUTE, [base], params)


def _permuted_back(axes: tuple[int, ...]) -> WriteBack:
    inverse = PermuteParams(tuple(sorted(range(len(axes)), key=axes.__getitem__)))
    return lambda base, view: assign(base, _fresh(apply(ir.PERMUTE, [view], inverse)))


def _reshaped_back(base: Tensor, view: Tensor) -> None:
    assign(base, _fresh(reshape(view, base.shape)))


def _reshaped(shape: tuple) -> Read:
    return lambda base: reshape(base, shape)


def _fresh(x: Tensor) -> Tensor:
    """``x`` in an array of its own: the value written back into a base must not be a view
    of the base's array (the write would mark it as changed, and the gradient reads it)."""
    return elementwise("add", x, 0)


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dims."""
    axes = list(range(x.ndim))
    d0 = normalize_dim(dim0, x.ndim, "transpose")
    d1 = normalize_dim(dim1, x.ndim, "transpose")
    axes[d0], axes[d1] = axes[d1], axes[d0]
    return permute(x, axes) if x.ndim else x


_SWAP = PermuteParams((1, 0))
_SWAPPED_BACK = _permuted_back((1, 0))
_SWAPPED = _permuted(_SWAP)


def matrix_transpose(x: Tensor) -> Tensor:
    """``x.T``: all dims reversed (the matrix transpose for 2-D tensors)."""
    if x.ndim == 2:  # the common case (``x @ w.T`` in every Linear layer), kept short
        return mark_view(apply(ir.PERMUTE, [x], _SWAP), x, _SWAPPED_BACK, _SWAPPED)
    return permute(x, tuple(reversed(range(x.ndim)))) if x.ndim > 1 else x


def squeeze(x: Tensor, dim: int | Sequence[int] | None = None) -> Tensor:
    """Drop size-1 dims (all of them, or those in ``dim`` that have size 1)."""
    if dim is None:
        dims = {d for d, n in enumerate(x.shape) if n == 1}
    else:
        dims = set(normalize_dims(dim, x.shape, "squeeze"))
    kept = tuple(n for d, n in enumerate(x.shape) if not (d in dims and n == 1))
    return mark_view(reshape(x, kept), x, _reshaped_back, _reshaped(kept))


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """Insert a size-1 dim at ``dim`` (``-1`` appends)."""
    at = normalize_dim(dim, x.ndim + 1, "unsqueeze")
    shape = (*x.shape[:at], 1, *x.shape[at:])
    return mark_view(reshape(x, shape), x, _reshaped_back, _reshaped(shape))


def expand(x: Tensor, *sizes) -> Tensor:
    """Broadcast to ``sizes`` without copying; ``-1`` keeps a dim's size."""
    target = list(parse_sizes(sizes))
    lead = len(target) - x.ndim
    if lead < 0:
        raise ShapeError(f"expand: {tuple(target)} has fewer dims than {shape_str(x.shape)}")
    for d, n in enumerate(x.shape):
        if target[lead + d] == -1:
            target[lead + d] = n
    return broadcast_to(x, tuple(target))


def broadcast_to(x: Tensor, shape: Sequence[int]) -> Tensor:
    """``x`` broadcast to ``shape``."""
    return broadcast(x, parse_sizes(tuple(shape)))


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing dim."""
    xs = [as_tensor(t) for t in tensors]
    if not xs:
        raise ShapeError("cat needs at least one tensor")
    return apply(ir.CONCAT, xs, ConcatParams(normalize_dim(dim, xs[0].ndim, "cat")))


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join same-shaped tensors along a new dim."""
    xs = [as_tensor(t) for t in tensors]
    if not xs:
        raise ShapeError("stack needs at least one tensor")
    if any(not same_shape(t.shape, xs[0].shape) for t in xs):
        listed = ", ".join(shape_str(s) for s in (t.shape for t in xs))
        raise ShapeError(f"stack needs tensors of one shape, got {listed}")
    at = normalize_dim(dim, xs[0].ndim + 1, "stack")
    return cat([unsqueeze(t, at) for t in xs], at)


def matmul(a, b) -> Tensor:
    """Matrix product with NumPy's ``matmul`` rules (1-D promotion, batch broadcasting)."""
    return apply(ir.MATMUL, [as_tensor(a), as_tensor(b)])


def _index_key(x: Tensor, items: tuple) -> tuple[tuple, list[Tensor]]:
    """The normalized key of ``x[items]`` and its integer index tensors (see ``GatherParams``)."""
    normalized, arrays = [], []
    for k, item in enumerate(items):
        if isinstance(item, Tensor | np.ndarray | list):
            t = as_tensor(item)
            if t.dtype == np.bool_:
                _check_mask(x.shape, items, k, t.shape)
                t = _mask_to_indices(t, len(arrays))
                for part in t:
                    normalized.append((ARRAY, len(arrays)))
                    arrays.append(part)
                continue
            normalized.append((ARRAY, len(arrays)))
            arrays.append(t)
        elif isinstance(item, slice):
            normalized.append((SLICE, item.start, item.stop, item.step))
        elif item is None or item is Ellipsis or isinstance(item, int | np.integer):
            normalized.append(int(item) if isinstance(item, np.integer) else item)
        else:
            raise IndexError(
                f"unsupported index {item!r}: use ints, slices, None, ... or int tensors"
            )
    return tuple(normalized), arrays


def getitem(x: Tensor, index) -> Tensor:
    """``x[index]`` with ints, slices (any step), None, ``...`` and integer index tensors.

    A basic index (ints, slices, None, ``...``) is a strided view, ``slice``, reshaped to
    drop the int dims and add the None dims; an index with tensors is a ``gather``.

    >>> import symgrad as sg
    >>> x = sg.arange(12.0).reshape(3, 4)
    >>> x[1:, ::2], x[-1, None, 1:3]
    (tensor([[ 4.,  6.],
            [ 8., 10.]]), tensor([[ 9., 10.]]))
    """
    key, arrays = _index_key(x, index if isinstance(index, tuple) else (index,))
    if not arrays:
        written_back = lambda base, view: setitem(base, index, view)  # noqa: E731
        read = lambda base: _basic_getitem(base, key)  # noqa: E731
        return mark_view(_basic_getitem(x, key), x, written_back, read)
    return apply(ir.GATHER, [x, *arrays], GatherParams(key))


def _basic_getitem(x: Tensor, key: tuple) -> Tensor:
    """``x[key]`` for a key of ints, slices, None and ``...``: a view and a unit reshape."""
    region, shape = _basic_region(x, key)
    sliced = apply(ir.SLICE, [x], SliceParams(region))
    return reshape(sliced, shape)


def _basic_region(x: Tensor, key: tuple) -> tuple[tuple, tuple]:
    """The region of ``x`` a basic ``key`` reads, and the shape of ``x[key]``."""
    region, shape, dim = [], [], 0
    for item in expand_index(x.shape, list(key)):
        if item is None:
            shape.append(1)
            continue
        size = x.shape[dim]
        if isinstance(item, tuple) and item[1:] == (None, None, None):
            region.append((0, 1, size))  # the whole dim, whatever its size
            shape.append(size)
        elif isinstance(item, tuple):
            bounds = slice_bounds(size, *item[1:])
            region.append(bounds)
            shape.append(bounds[2])
        else:
            if not -size <= item < size:
                raise IndexError(f"index {item} is out of range for dim {dim} of size {size}")
            region.append((item + size if item < 0 else item, 1, 1))
        dim += 1
    return tuple(region), tuple(shape)


def _consumed(item) -> int:
    """How many dims of the indexed tensor an index item uses."""
    if item is None or item is Ellipsis:
        return 0
    if isinstance(item, Tensor | np.ndarray | list):
        array = np.asarray(item.numpy() if isinstance(item, Tensor) else item)
        return array.ndim if array.dtype == np.bool_ else 1
    return 1


def _check_mask(shape: tuple, items: tuple, k: int, mask_shape: tuple) -> None:
    """A boolean mask must have the shape of the dims it selects from (as PyTorch)."""
    if any(item is Ellipsis for item in items[:k]):
        start = len(shape) - sum(_consumed(item) for item in items[k:])
    else:
        start = sum(_consumed(item) for item in items[:k])
    covered = tuple(shape[start : start + len(mask_shape)])
    if covered != tuple(mask_shape):
        raise IndexError(
            f"the shape of the mask {list(mask_shape)} at index {start} does not match the "
            f"shape of the indexed tensor {list(shape)}"
        )


def _mask_to_indices(mask: Tensor, start: int) -> list[Tensor]:
    if mask.is_traced:
        raise TraceError(
            f"boolean mask indexing (mask of shape {shape_str(mask.shape)}) has a data-dependent "
            "shape and cannot be compiled; use sg.where(mask, x, 0) instead"
        )
    return [Tensor(np.asarray(i, np.int64)) for i in np.nonzero(mask.numpy())]


def setitem(x: Tensor, index, value) -> None:
    """``x[index] = value``, as in PyTorch: in place, with the index rules of ``x[index]``.

    On a plain tensor this is a NumPy assignment.  On a traced tensor (any dtype: an int64
    context window ``idx[:, -1] = token`` too) or one recorded for gradients, the new
    value is recorded as ``where(selected, value, x)`` and ``x`` is rebound to it, so
    gradients flow to ``value`` and to the untouched elements of ``x``.  A value written
    twice through repeated index entries gets the mean of what was written there.

    >>> import symgrad as sg
    >>> x = sg.tensor([1.0, 2.0, 3.0], requires_grad=True) * 1
    >>> x[1:] = 0.0
    >>> x
    tensor([1., 0., 0.], grad_fn=<recorded>)
    """
    items = index if isinstance(index, tuple) else (index,)
    if not _records_setitem(x, items, value):
        key = tuple(k.numpy() if isinstance(k, Tensor) else k for k in items)
        x.numpy()[key] = value.numpy() if isinstance(value, Tensor) else value
        x._version.bump()
        return
    assign(x, _put(x, items, value))


def _records_setitem(x: Tensor, items: tuple, value: object) -> bool:
    trace = RECORDING.trace
    tensors = [value, *items]
    if trace is not None:  # a constant written into a tensor the trace has not seen: at once
        return (
            x.is_traced
            or x in trace.captured
            or any(isinstance(t, Tensor) and t.is_traced for t in tensors)
        )
    if not RECORDING.grad_enabled:
        return False
    return x.requires_grad or not x.is_leaf or (isinstance(value, Tensor) and value.requires_grad)


def _put(x: Tensor, items: tuple, value: object) -> Tensor:
    """``x`` with ``value`` written at ``x[items]``, as recorded ops."""
    value = value if isinstance(value, Tensor) else as_tensor(value)
    mask = items[0] if len(items) == 1 else None
    if isinstance(mask, Tensor | np.ndarray) and mask.dtype == np.bool_ and value.ndim == 0:
        mask = as_tensor(mask)  # x[mask] = v: a where, which also works on a traced mask
        _check_mask(x.shape, items, 0, mask.shape)
        mask = reshape(mask, (*mask.shape, *[1] * (x.ndim - mask.ndim)))
        return cast(elementwise("where", mask, cast(value, x.dtype), x), x.dtype)
    key, arrays = _index_key(x, items)
    if not arrays:
        region, selected = _basic_region(x, key)
    else:
        _, selected, _, _ = plan_index(x.shape, key, tuple(a.shape for a in arrays))
    work = x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)  # scatters add floats
    v = cast(value, work)
    while v.ndim > len(selected) and v.shape[0] == 1:  # NumPy drops leading 1s of the value
        v = reshape(v, v.shape[1:])
    v = broadcast(v, tuple(selected))
    if not arrays:  # a basic index: the written region of x, by strides
        counts = tuple(n for _, _, n in region)
        params = SliceAddParams(tuple(x.shape), (region,))
        written = apply(ir.SLICE_ADD, [filled(1, counts, work)], params)
        placed = apply(ir.SLICE_ADD, [reshape(v, counts)], params)
        return cast(elementwise("where", written > 0, placed, cast(x, work)), x.dtype)
    params = ScatterAddParams(key, tuple(x.shape))
    count = apply(ir.SCATTER_ADD, [filled(1, tuple(selected), work), *arrays], params)
    placed = apply(ir.SCATTER_ADD, [v, *arrays], params)
    if arrays:  # repeated index entries: the mean of the values written there
        placed = placed / elementwise("maximum", count, 1)
    new = elementwise("where", count > 0, placed, cast(x, work))
    return cast(new, x.dtype)
