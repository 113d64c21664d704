"""``__getitem__`` as a ``gather`` node, and its gradient, ``scatter_add``.

An index is normalized by the front end into a hashable key: ints, ``None``,
``...``, ``("slice", start, stop, step)`` and ``("array", j)`` for the ``j``-th
integer index array (an input of the node).  :func:`plan_index` turns a key into a
static plan: for each input dim, where its index comes from — a slice of an output
dim (``("slice", start, step, out_dim)``), a fixed int (``("int", k)``) or an index
array (``("array", j)``).  Index arrays broadcast together into a block of output
dims at ``adv_start``: in place when the advanced indices are adjacent, else at the
front (NumPy's rule).  The gradient of a gather is a scatter-add with the same key,
so repeated indices accumulate; kernels check every index array entry's bounds.

Example:
    >>> plan_index((4, 5), (("slice", 1, None, 2), 3), ())
    ((('slice', 1, 2, 0), ('int', 3)), (2,), 0, 0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from symgrad.errors import ShapeError, shape_str
from symgrad.ir.graph import Node, Var
from symgrad.ir.primitive import Primitive, Schedule, register
from symgrad.ir.shapes import Shape, broadcast_shapes
from symgrad.ir.sizes import SymSize

ARRAY = "array"  # ("array", j): the j-th index array
SLICE = "slice"  # ("slice", start, stop, step), as the user wrote it


def expand_index(shape: Shape, items: list) -> list:
    """``items`` with ``...`` (or the missing trailing dims) filled in with whole slices.

    >>> expand_index((2, 3, 4), [0, Ellipsis])
    [0, ('slice', None, None, None), ('slice', None, None, None)]
    """
    if sum(item is Ellipsis for item in items) > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    consumed = sum(item is not None and item is not Ellipsis for item in items)
    if consumed > len(shape):
        raise IndexError(
            f"too many indices for a tensor of shape {shape_str(shape)}: {consumed} were given"
        )
    fill = [(SLICE, None, None, None)] * (len(shape) - consumed)
    if Ellipsis in items:
        at = items.index(Ellipsis)
        return items[:at] + fill + items[at + 1 :]
    return items + fill


def plan_index(
    shape: Shape, key: tuple, array_shapes: tuple[Shape, ...]
) -> tuple[tuple, Shape, int, int]:
    """``(sources, out_shape, adv_start, adv_ndim)`` for ``x[key]`` with ``x.shape == shape``.

    Memoised, except while tracing with symbolic sizes (a memo would compare a traced size
    with another trace's and lose the guard that comparison records).
    """
    bounds = [n for item in key for n in (item if isinstance(item, tuple) else (item,))]
    sizes = [*shape, *bounds, *(n for s in array_shapes for n in s)]
    if any(isinstance(n, SymSize) for n in sizes):
        return _plan_index(shape, key, array_shapes)
    return _memo_plan_index(shape, key, array_shapes)


def _plan_index(
    shape: Shape, key: tuple, array_shapes: tuple[Shape, ...]
) -> tuple[tuple, Shape, int, int]:
    items = expand_index(shape, list(key))
    is_array = [isinstance(it, tuple) and it[0] == ARRAY for it in items]
    has_arrays = any(is_array)
    advanced = [
        i for i, it in enumerate(items) if is_array[i] or (has_arrays and isinstance(it, int))
    ]
    try:
        adv_shape = broadcast_shapes("index", *array_shapes) if array_shapes else ()
    except ShapeError:
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
        elif isinstance(item, tuple) and item[0] == SLICE and item[1:] == (None, None, None):
            sources.append((SLICE, 0, 1, len(basic_out)))  # the whole dim, whatever its size
            basic_out.append(size)
        elif isinstance(item, tuple) and item[0] == SLICE:
            start, stop, step = slice(*item[1:]).indices(size)  # (specialises a traced size)
            sources.append((SLICE, start, step, len(basic_out)))
            basic_out.append(len(range(start, stop, step)))
        elif isinstance(item, int):
            # (a size expression of a finished graph was checked, with a guard, when traced)
            if isinstance(size, int | SymSize) and not -size <= item < size:
                raise IndexError(f"index {item} is out of range for dim {dim} of size {size}")
            sources.append(("int", item if item >= 0 else size + item))
        else:
            raise IndexError(
                f"unsupported index {item!r}: use ints, slices, None, ... or int tensors"
            )
        dim += 1
    adjacent = advanced == list(range(advanced[0], advanced[-1] + 1)) if advanced else True
    adv_start = (adv_at if adjacent else 0) if has_arrays else 0
    adv_ndim = len(adv_shape) if has_arrays else 0
    shift = [q if q < adv_start else q + adv_ndim for q in range(len(basic_out))]
    sources = tuple((s[0], s[1], s[2], shift[s[3]]) if s[0] == SLICE else s for s in sources)
    out_shape = tuple(basic_out[:adv_start]) + adv_shape + tuple(basic_out[adv_start:])
    return sources, out_shape, adv_start, adv_ndim


_memo_plan_index = lru_cache(maxsize=1024)(_plan_index)


def numpy_key(key: tuple, arrays: Sequence[np.ndarray]) -> tuple:
    """The NumPy index for ``key`` with its index arrays filled in."""
    out = []
    for item in key:
        if isinstance(item, tuple):
            out.append(arrays[item[1]] if item[0] == ARRAY else slice(*item[1:]))
        else:
            out.append(item)
    return tuple(out)


def _source_index(w: Any, node: Node, plan: tuple, x_shape: Shape, indent: int) -> list[str]:
    """Index expressions into the indexed array, with bounds checks on index arrays."""
    sources, _, adv_start, adv_ndim = plan
    arrays = node.inputs[1:]
    parts = []
    for dim, source in enumerate(sources):
        kind = source[0]
        if kind == SLICE:
            _, start, step, out_dim = source
            parts.append(f"{start} + {step} * i{out_dim}" if step != 1 else f"{start} + i{out_dim}")
        elif kind == "int":
            parts.append(str(source[1]))
        else:
            idx_var = arrays[source[1]]
            lead = adv_ndim - idx_var.ndim
            at = [
                "0" if n == 1 else f"i{adv_start + lead + d}" for d, n in enumerate(idx_var.shape)
            ]
            size = x_shape[dim]
            j = f"ij{dim}"
            w.emit(indent, f"{j} = {w.operand(idx_var)}[{w.index(at)}]")
            w.emit(indent, f"if {j} < 0:")
            w.emit(indent + 1, f"{j} += {size}")
            w.emit(indent, f"if {j} < 0 or {j} >= {size}:")
            w.emit(
                indent + 1,
                f'raise IndexError("index out of range for dim {dim} of size {size} in getitem")',
            )
            parts.append(j)
    return parts


def _check_index_arrays(arrays: Sequence[Any]) -> None:
    for a in arrays:
        if a.dtype.kind not in "iu":
            raise IndexError(f"index tensors must be integers, got dtype {a.dtype}")


@dataclass(frozen=True)
class GatherParams:
    """The normalized index key (see the module docstring)."""

    key: tuple


class Gather(Primitive):
    """``x[key]``: inputs are ``x`` and the integer index arrays the key refers to."""

    name = "gather"
    schedule = Schedule.INDEX_LOOP

    def shape_rule(self, params: GatherParams, x: Any, *arrays: Any) -> tuple[Shape, np.dtype]:
        _check_index_arrays(arrays)
        _, out_shape, _, _ = plan_index(x.shape, params.key, tuple(a.shape for a in arrays))
        return out_shape, x.dtype

    def evaluate(self, params: GatherParams, x: np.ndarray, *arrays: np.ndarray) -> np.ndarray:
        return x[numpy_key(params.key, arrays)]

    def vjp(self, node: Node, g: Var, wanted: Sequence[bool]) -> list[Var | None]:
        x, *arrays = node.inputs
        return [scatter_add(g, arrays, node.params.key, x.shape)] + [None] * len(arrays)

    def emit(self, w: Any, node: Node) -> None:
        x, *arrays = node.inputs
        out = node.output
        plan = plan_index(x.shape, node.params.key, tuple(a.shape for a in arrays))
        target = w.allocate(out)
        indent = w.loop_nest(out.shape, reads=node.inputs)
        src = _source_index(w, node, plan, x.shape, indent)
        here = [f"i{d}" for d in range(out.ndim)]
        w.emit(indent, f"{target}[{w.index(here)}] = {w.operand(x)}[{w.index(src)}]")


GATHER = register(Gather())


@dataclass(frozen=True)
class ScatterAddParams:
    """The key of the gather this undoes, and the shape of the array it indexed."""

    key: tuple
    shape: Shape


class ScatterAdd(Primitive):
    """Zeros of ``params.shape`` with ``g`` added where a gather with ``params.key`` read."""

    name = "scatter_add"
    schedule = Schedule.INDEX_LOOP

    def shape_rule(self, params: ScatterAddParams, g: Any, *arrays: Any) -> tuple[Shape, np.dtype]:
        if not np.issubdtype(g.dtype, np.floating):
            raise ShapeError("scatter_add needs a float gradient")
        return params.shape, g.dtype

    def evaluate(self, params: ScatterAddParams, g: np.ndarray, *arrays: np.ndarray) -> np.ndarray:
        out = np.zeros(params.shape, g.dtype)
        np.add.at(out, numpy_key(params.key, arrays), g)
        return out

    def vjp(self, node: Node, g: Var, wanted: Sequence[bool]) -> list[Var | None]:
        _, *arrays = node.inputs
        return [gather(g, arrays, node.params.key)] + [None] * len(arrays)

    def emit(self, w: Any, node: Node) -> None:
        g, *arrays = node.inputs
        out = node.output
        plan = plan_index(out.shape, node.params.key, tuple(a.shape for a in arrays))
        target = w.allocate(out, fill="0")
        indent = w.loop_nest(g.shape, reads=node.inputs)
        dst = _source_index(w, node, plan, out.shape, indent)
        here = [f"i{d}" for d in range(g.ndim)]
        w.emit(indent, f"{target}[{w.index(dst)}] += {w.operand(g)}[{w.index(here)}]")


SCATTER_ADD = register(ScatterAdd())


def gather(x: Var, arrays: Sequence[Var], key: tuple) -> Var:
    """``x[key]`` as one node; ``arrays`` are the index arrays the key refers to."""
    return GATHER.bind([x, *arrays], GatherParams(key))


def scatter_add(g: Var, arrays: Sequence[Var], key: tuple, shape: Shape) -> Var:
    """Zeros of ``shape`` with ``g`` added at the places ``x[key]`` read."""
    return SCATTER_ADD.bind([g, *arrays], ScatterAddParams(key, tuple(shape)))
