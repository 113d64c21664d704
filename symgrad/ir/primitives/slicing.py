"""Basic slices as strided views (``slice``) and their gradient (``slice_add``).

A *region* says, for each dim of an array, which elements a basic slice keeps: a
triple ``(start, step, count)`` — elements ``start, start + step, ...``, ``count`` of
them.  Starts and counts are ints or size expressions (``n_0 - 1`` for ``x[1:]``), so a
slice of a symbolic dimension keeps its size symbolic.  ``slice`` is a free view: a
kernel reads ``x[1:]`` as ``x[i0 + 1]`` through index arithmetic, with no copy and no
index array.  ``slice_add`` is its gradient: zeros of the sliced array's shape with one
or more same-shaped values added at their regions, folded into the loop that computes
them (``out[i0 + 1] += g``).

Example:
    >>> slice_bounds(10, 1, None, None), slice_bounds(10, None, -1, 2)
    ((1, 1, 9), (0, 2, 5))
    >>> import numpy as np
    >>> from symgrad.ir.graph import Var
    >>> x = Var((5, 3), np.dtype("float64"))
    >>> strided_slice(x, ((1, 1, 4), (0, 2, 2))).shape
    (4, 2)
"""

from __future__ import annotations

import operator
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import sympy

from symgrad.errors import ShapeError, shape_str
from symgrad.ir.graph import Node, Var
from symgrad.ir.primitive import Primitive, Schedule, register
from symgrad.ir.primitives.core import Reduction
from symgrad.ir.shapes import Shape, same_shape
from symgrad.ir.sizes import SymSize, floor_divide

Dim = tuple[Any, int, Any]  # (start, step, count) of one dim
Region = tuple[Dim, ...]


def _as_index(value: Any) -> Any:
    return value if isinstance(value, SymSize) else operator.index(value)


def slice_bounds(size: Any, start: Any, stop: Any, step: Any) -> Dim:
    """``(start, step, count)`` of ``slice(start, stop, step)`` on a dim of ``size``.

    Python's rules (``slice.indices``), written so that a symbolic ``size`` stays
    symbolic: ``x[1:]`` of ``n`` elements is ``(1, 1, n - 1)``.  Comparisons of a size
    with a bound are answered from the example sizes and kept as guards.

    >>> slice_bounds(5, -2, None, None), slice_bounds(5, 7, None, None), slice_bounds(6, 4, 0, -2)
    ((3, 1, 2), (5, 1, 0), (4, -2, 2))
    """
    step = 1 if step is None else operator.index(step)
    if step == 0:
        raise ValueError("slice step cannot be zero")
    lower, upper = (0, size) if step > 0 else (-1, size - 1)

    def clamp(bound: Any, default: Any) -> Any:
        if bound is None:
            return default
        bound = _as_index(bound)
        if bound < 0:
            bound = bound + size
            return lower if bound < lower else bound
        return upper if bound > upper else bound

    first = clamp(start, lower if step > 0 else upper)
    last = clamp(stop, upper if step > 0 else lower)
    span = last - first if step > 0 else first - last
    if not span > 0:
        return first, step, 0
    return first, step, span if abs(step) == 1 else floor_divide(span + abs(step) - 1, abs(step))


def compose(outer: Region, inner: Region) -> Region:
    """The region of an array that slicing it by ``outer``, then by ``inner``, keeps.

    >>> compose(((1, 2, 4),), ((3, -1, 2),))
    ((7, -2, 2),)
    """
    return tuple(
        (start + step * start_in, step * step_in, count_in)
        for (start, step, _), (start_in, step_in, count_in) in zip(outer, inner, strict=True)
    )


def region_numpy_key(region: Region) -> tuple[slice, ...]:
    """The NumPy index (slices) that reads ``region``.

    >>> region_numpy_key(((4, -2, 2), (0, 1, 3)))
    (slice(4, 1, -2), slice(0, 3, 1))
    """
    key = []
    for start, step, count in region:
        start, count = int(start), int(count)
        if count == 0:
            key.append(slice(0, 0, 1))
            continue
        stop = start + step * (count - 1) + (1 if step > 0 else -1)
        key.append(slice(start, None if stop < 0 else stop, step))
    return tuple(key)


def region_code(region: Region, source: str) -> str:
    """Numba source for the view of array ``source`` that ``region`` keeps.

    >>> region_code(((1, 1, sympy.Symbol("n") - 1), (0, 2, 3)), "x")
    'x[1:n, 0:5:2]'
    >>> region_code(((3, -1, 4),), "x")
    'x[0:4][::-1]'
    """
    parts, flips = [], []
    for start, step, count in region:
        if count == 0:
            parts.append("0:0")
            flips.append(":")
            continue
        last = sympy.sympify(start) + step * (sympy.sympify(count) - 1)
        low, high = (start, last) if step > 0 else (last, start)
        stride = "" if abs(step) == 1 else f":{abs(step)}"
        parts.append(f"{low}:{sympy.sympify(high) + 1}{stride}")
        flips.append(":" if step > 0 else "::-1")
    text = f"{source}[{', '.join(parts)}]"
    if any(f != ":" for f in flips):
        text += f"[{', '.join(flips)}]"
    return text


def region_index(region: Region, index: Sequence[str]) -> list[str]:
    """Index expressions into the sliced array for ``index`` into the slice.

    >>> region_index(((1, 1, 4), (5, -2, 3)), ["i0", "0"])
    ['i0 + 1', '5']
    """
    parts = []
    for (start, step, _), ix in zip(region, index, strict=True):
        names = {name: sympy.Symbol(name) for name in re.findall(r"[A-Za-z_]\w*", ix)}
        at = sympy.sympify(ix, locals=names)
        parts.append(str(sympy.sympify(start) + step * at))
    return parts


def _as_written(value: Any, size: Any, stop: bool = False) -> Any:
    """A bound as a person writes it: ``-1`` for ``n - 1``, ints as ints; the ``stop`` of
    a slice from the start, in the last half of a dim, counts from the end (``x[:-1]``)."""
    value = sympy.sympify(value)
    from_end = sympy.sympify(value - size)
    if from_end.is_Integer and from_end < 0:
        if not value.is_Integer or (stop and -from_end < value):
            return int(from_end)
    return int(value) if value.is_Integer else value


def slice_key(region: Region, shape: Shape) -> tuple:
    """``region`` of an array of ``shape`` as the index a person writes, in the form of a
    ``gather`` key (``("slice", start, stop, step)`` per dim; ``None`` where it is the
    default): for showing a slice in formulas.

    >>> n = sympy.Symbol("n")
    >>> slice_key(((0, 1, n - 1), (1, 1, 4), (4, -1, 5)), (n, 5, 5))
    (('slice', None, -1, None), ('slice', 1, None, None), ('slice', None, None, -1))
    """
    key = []
    for (start, step, count), size in zip(region, shape, strict=True):
        first = sympy.sympify(start)
        end = first + step * sympy.sympify(count)  # one step past the last element
        default_start = 0 if step > 0 else sympy.sympify(size) - 1
        default_stop = sympy.sympify(size) if step > 0 else sympy.Integer(-1)
        shown_start = None if first == default_start else _as_written(first, size)
        past = (end - default_stop) >= 0 if step > 0 else (end - default_stop) <= 0
        from_start = step > 0 and shown_start is None
        shown_stop = None if past is sympy.true else _as_written(end, size, stop=from_start)
        key.append(("slice", shown_start, shown_stop, None if step == 1 else step))
    return tuple(key)


def _check_region(region: Region, shape: Shape, op: str) -> None:
    if len(region) != len(shape):
        raise ShapeError(f"{op}: a region of {len(region)} dims for a shape {shape_str(shape)}")


@dataclass(frozen=True)
class SliceParams:
    """The region of the input the view keeps (one ``(start, step, count)`` per dim)."""

    region: Region


class Slice(Primitive):
    """``x[a:b:c, ...]``: a strided view, read through index arithmetic (no copy)."""

    name = "slice"
    schedule = Schedule.VIEW

    def shape_rule(self, params: SliceParams, x: Any) -> tuple[Shape, np.dtype]:
        _check_region(params.region, x.shape, "slice")
        return tuple(count for _, _, count in params.region), x.dtype

    def evaluate(self, params: SliceParams, x: np.ndarray) -> np.ndarray:
        return x[region_numpy_key(params.region)]

    def bind(self, inputs: Sequence[Var], params: SliceParams) -> Var:
        (x,) = inputs
        shape, dtype = self.shape_rule(params, x)
        if x.producer is not None and x.producer.primitive is self:  # a slice of a slice
            params = SliceParams(compose(x.producer.params.region, params.region))
            x = x.producer.inputs[0]
        whole = all(
            isinstance(start, int) and start == 0 and step == 1 for start, step, _ in params.region
        )
        if whole and same_shape(shape, x.shape):
            return x
        return Node(self, [x], shape, dtype, params=params).output

    def vjp(self, node: Node, g: Var, wanted: Sequence[bool]) -> list[Var | None]:
        return [slice_add([g], [node.params.region], node.inputs[0].shape)]

    def is_free_view(self, node: Node) -> bool:
        return True

    def view_index(self, node: Node, index: list[str]) -> list[str]:
        """Where element ``index`` of the view is in the input."""
        return region_index(node.params.region, index)

    def view_code(self, node: Node, source: str) -> str:
        """The view as a NumPy expression over the input's array ``source``."""
        return region_code(node.params.region, source)

    def emit(self, w: Any, node: Node) -> None:
        w.emit(1, f"{w.array(node.output)} = {w.operand(node.output)}")


SLICE = register(Slice())


@dataclass(frozen=True)
class SliceAddParams:
    """The output shape and, per input, the region of the output it is added to."""

    shape: Shape
    regions: tuple[Region, ...]


class SliceAdd(Reduction):
    """Zeros of ``params.shape`` with each input added at its region: the gradient of
    ``slice`` (several slices of one array, summed, are one node).

    Scheduled as a reduction: folded into the loop over the inputs' shape, each
    iteration adds each input's element into the output array in memory.
    """

    name = "slice_add"
    start = "0.0"
    fill = "0"
    fold_into_output: ClassVar[bool] = True

    def shape_rule(self, params: SliceAddParams, *gs: Any) -> tuple[Shape, np.dtype]:
        if not gs or len(gs) != len(params.regions):
            raise ShapeError("slice_add needs one region per input")
        for g, region in zip(gs, params.regions, strict=True):
            _check_region(region, params.shape, "slice_add")
            counts = tuple(count for _, _, count in region)
            if not same_shape(g.shape, counts) or not same_shape(g.shape, gs[0].shape):
                raise ShapeError(
                    f"slice_add: an input of shape {shape_str(g.shape)} for a region of "
                    f"shape {shape_str(counts)}"
                )
        return tuple(params.shape), np.result_type(*(g.dtype for g in gs))

    def evaluate(self, params: SliceAddParams, *gs: np.ndarray) -> np.ndarray:
        out = np.zeros(tuple(int(n) for n in params.shape), np.result_type(*gs))
        for g, region in zip(gs, params.regions, strict=True):
            out[region_numpy_key(region)] += g
        return out

    def vjp(self, node: Node, g: Var, wanted: Sequence[bool]) -> list[Var | None]:
        return [
            strided_slice(g, region) if want else None
            for region, want in zip(node.params.regions, wanted, strict=True)
        ]

    def accumulator_depth(self, node: Node) -> int | None:
        return None  # always accumulated in memory

    def fold_targets(self, node: Node, index: list[str]) -> list[tuple[Var, list[str]]]:
        return [
            (g, region_index(region, index))
            for g, region in zip(node.inputs, node.params.regions, strict=True)
        ]

    def fold(self, target: str, value: str) -> str:
        return f"{target} += {value}"


SLICE_ADD = register(SliceAdd())


def strided_slice(x: Var, region: Region) -> Var:
    """The view of ``x`` that ``region`` keeps (``x`` itself for the whole array)."""
    return SLICE.bind([x], SliceParams(tuple(tuple(d) for d in region)))


def slice_add(gs: Sequence[Var], regions: Sequence[Region], shape: Shape) -> Var:
    """Zeros of ``shape`` with ``gs[j]`` added at ``regions[j]`` (all ``gs`` of one shape)."""
    regions = tuple(tuple(tuple(d) for d in r) for r in regions)
    return SLICE_ADD.bind(list(gs), SliceAddParams(tuple(shape), regions))
