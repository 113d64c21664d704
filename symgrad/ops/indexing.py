"""``__getitem__``: NumPy indexing rules turned into a static plan, gather and scatter-add.

A plan says, for each input dim, where its index comes from: a slice of an
output dim (``("slice", start, step, out_dim)``), a fixed int (``("int", k)``)
or an integer index array (``("array", j)``).  Index arrays broadcast together
into a block of output dims at ``adv_start``: in place when the advanced
indices are adjacent, else at the front (NumPy's rule).  The gradient of a
gather is a scatter-add with the same plan, so repeated indices accumulate.

Example:
    >>> plan_index((4, 5), (slice(1, None, 2), 3), [])
    ((('slice', 1, 2, 0), ('int', 3)), (2,), 0, 0)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from symgrad import ir
from symgrad.errors import ShapeError, shape_str

ARRAY = "array"  # marker for an index array in a normalized index tuple: (ARRAY, j)


def _expand(shape: tuple[int, ...], items: list) -> list:
    if sum(item is Ellipsis for item in items) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    consumed = sum(item is not None and item is not Ellipsis for item in items)
    if consumed > len(shape):
        raise IndexError(
            f"too many indices for a tensor of shape {shape_str(shape)}: {consumed} were given"
        )
    fill = [slice(None)] * (len(shape) - consumed)
    if Ellipsis in items:
        at = items.index(Ellipsis)
        return items[:at] + fill + items[at + 1 :]
    return items + fill


def plan_index(
    shape: tuple[int, ...], index: tuple, array_shapes: Sequence[tuple[int, ...]]
) -> tuple[tuple, tuple[int, ...], int, int]:
    """``(sources, out_shape, adv_start, adv_ndim)`` for ``x[index]`` with ``x.shape == shape``.

    ``index`` holds ints, slices, ``None``, ``...`` and ``(ARRAY, j)`` markers for
    index arrays whose shapes are ``array_shapes``.
    """
    items = _expand(shape, list(index))
    is_array = [isinstance(it, tuple) and it[:1] == (ARRAY,) for it in items]
    has_arrays = any(is_array)
    advanced = [
        i for i, it in enumerate(items) if is_array[i] or (has_arrays and isinstance(it, int))
    ]
    try:
        adv_shape = tuple(np.broadcast_shapes(*array_shapes)) if array_shapes else ()
    except ValueError:
        listed = ", ".join(shape_str(s) for s in array_shapes)
        raise IndexError(f"index arrays of shapes {listed} cannot be broadcast together") from None

    sources, basic_out = [], []  # basic_out: output sizes of slices and Nones, in order
    adv_at, dim = None, 0
    for i, item in enumerate(items):
        if item is None:
            basic_out.append(1)
            continue
        size = shape[dim]
        if i in advanced and adv_at is None:
            adv_at = len(basic_out)
        if is_array[i]:
            sources.append((ARRAY, item[1]))
        elif isinstance(item, slice):
            start, stop, step = item.indices(size)
            sources.append(("slice", start, step, len(basic_out)))
            basic_out.append(len(range(start, stop, step)))
        elif isinstance(item, int | np.integer):
            k = int(item)
            if not -size <= k < size:
                raise IndexError(f"index {k} is out of range for dim {dim} of size {size}")
            sources.append(("int", k % size))
        else:
            raise IndexError(
                f"unsupported index {item!r}: use ints, slices, None, ... or int tensors"
            )
        dim += 1
    adjacent = advanced == list(range(advanced[0], advanced[-1] + 1)) if advanced else True
    adv_start = (adv_at if adjacent else 0) if has_arrays else 0
    adv_ndim = len(adv_shape) if has_arrays else 0
    shift = [q if q < adv_start else q + adv_ndim for q in range(len(basic_out))]
    sources = tuple((s[0], s[1], s[2], shift[s[3]]) if s[0] == "slice" else s for s in sources)
    out_shape = tuple(basic_out[:adv_start]) + adv_shape + tuple(basic_out[adv_start:])
    return sources, out_shape, adv_start, adv_ndim


def gather(x: ir.Var, arrays: Sequence[ir.Var], index: tuple) -> ir.Var:
    """``x[index]`` as one node; ``arrays`` are the int64 index arrays the index refers to."""
    for a in arrays:
        if a.dtype.kind not in "iu":
            raise IndexError(f"index tensors must be integers, got dtype {a.dtype}")
    sources, out_shape, adv_start, adv_ndim = plan_index(x.shape, index, [a.shape for a in arrays])
    params = (sources, adv_start, adv_ndim)
    return ir.structured("gather", [x, *arrays], out_shape, x.dtype, params=params)


def scatter_add(g: ir.Var, arrays: Sequence[ir.Var], params: tuple, shape) -> ir.Var:
    """Zeros of ``shape`` with ``g`` added at the places a gather with ``params`` read."""
    if not np.issubdtype(g.dtype, np.floating):
        raise ShapeError("scatter_add needs a float gradient")
    return ir.structured(
        "scatter_add", [g, *arrays], tuple(shape), g.dtype, params=(*params, tuple(shape))
    )
