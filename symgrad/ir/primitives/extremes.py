"""``max``/``min`` over axes (ties share the gradient evenly) and ``argmax``/``argmin``.

Example:
    >>> import numpy as np
    >>> from symgrad.ir.graph import Var
    >>> x = Var((2, 3), np.dtype('float64'))
    >>> MAX.bind([x], ReduceParams((1,), keepdim=True)).shape
    (2, 1)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy

from symgrad.errors import ShapeError, shape_str
from symgrad.ir.graph import Node, Var, arg
from symgrad.ir.primitive import Primitive, Schedule, register
from symgrad.ir.primitives.core import (
    ReduceParams,
    Reduction,
    elementwise,
    expand_reduced,
    reduce_sum,
)
from symgrad.ir.shapes import Shape, reduced_shape


def _check_not_empty(op: str, shape: Shape, axes: tuple[int, ...]) -> None:
    """An extreme over a dim of size 0 has no value (as PyTorch); an empty batch is fine."""
    if any(shape[d] == 0 for d in axes):
        raise ShapeError(
            f"{op} over a dim of size 0 of a tensor of shape {shape_str(shape)} has no value"
        )


class Extreme(Reduction):
    """``max`` or ``min``: NaN wins (as in PyTorch); tied extremes share the gradient evenly."""

    better = ""  # the comparison that makes a value the new extreme
    numpy_reduce: Any = None

    def shape_rule(self, params: ReduceParams, x: Any) -> tuple[Shape, np.dtype]:
        _check_not_empty(self.name, x.shape, params.axes)
        return reduced_shape(x.shape, params.axes, params.keepdim), x.dtype

    def evaluate(self, params: ReduceParams, x: np.ndarray) -> np.ndarray:
        return np.asarray(type(self).numpy_reduce(x, axis=params.axes, keepdims=params.keepdim))

    def vjp(self, node: Node, g: Var, wanted: Sequence[bool]) -> list[Var | None]:
        x = node.inputs[0]
        axes, keepdim = node.params.axes, node.params.keepdim
        best = expand_reduced(node.output, x.shape, axes, keepdim)
        is_best = sympy.Piecewise((1, sympy.Eq(arg(0), arg(1))), (0, True))
        mask = elementwise(is_best, [x, best], dtype=x.dtype)
        count = reduce_sum(mask, axes, keepdim=True)
        spread = expand_reduced(g, x.shape, axes, keepdim)
        share = arg(0) * arg(1) / arg(2)
        return [elementwise(share, [spread, mask, count], shape=x.shape, dtype=x.dtype)]

    def fold(self, target: str, value: str) -> str:
        b = self.better
        return f"{target} = {value} if ({value} {b} {target} or {value} != {value}) else {target}"


class Max(Extreme):
    name = "max"
    start = "-math.inf"
    fill = "-math.inf"
    better = ">"
    numpy_reduce = staticmethod(np.max)


class Min(Extreme):
    name = "min"
    start = "math.inf"
    fill = "math.inf"
    better = "<"
    numpy_reduce = staticmethod(np.min)


MAX = register(Max())
MIN = register(Min())


@dataclass(frozen=True)
class ArgParams:
    """Positions along ``axis`` (``None``: in the flattened tensor), kept as size 1 with
    ``keepdim``."""

    axis: int | None
    keepdim: bool


class ArgExtreme(Primitive):
    """``argmax``/``argmin``: int64 positions of the first extreme (NaN counts as extreme)."""

    schedule = Schedule.INDEX_LOOP
    differentiable = False
    kernel_locals = ("best", "seen", "flat", "val", "cur")
    better = ""
    numpy_arg: Any = None

    def shape_rule(self, params: ArgParams, x: Any) -> tuple[Shape, np.dtype]:
        axes = tuple(range(x.ndim)) if params.axis is None else (params.axis,)
        _check_not_empty(self.name, x.shape, axes)
        if params.axis is None:
            shape = tuple(1 for _ in x.shape) if params.keepdim else ()
        else:
            shape = reduced_shape(x.shape, (params.axis,), params.keepdim)
        return shape, np.dtype(np.int64)

    def evaluate(self, params: ArgParams, x: np.ndarray) -> np.ndarray:
        find = type(self).numpy_arg
        if params.axis is None:
            flat = np.asarray(find(x))
            return flat.reshape((1,) * x.ndim) if params.keepdim else flat
        return np.asarray(find(x, axis=params.axis, keepdims=params.keepdim))

    def emit(self, w: Any, node: Node) -> None:
        x, out = node.inputs[0], node.output
        axis, keepdim = node.params.axis, node.params.keepdim
        target = w.allocate(out)
        name = w.names[out]
        source = w.operand(x)
        shape = tuple(1 if axis is None or d == axis else n for d, n in enumerate(x.shape))
        w.emit(1, f"best_{name} = np.full({shape}, np.nan)")
        w.emit(1, f"seen_{name} = np.zeros({shape}, np.bool_)")
        w.emit(1, f"flat_{name} = 0")
        indent = w.loop_nest(x.shape, reads=[x])
        here = [f"i{d}" for d in range(x.ndim)]
        at = ["0" if axis is None or d == axis else f"i{d}" for d in range(x.ndim)]
        pos = f"flat_{name}" if axis is None else f"i{axis}"
        cell = f"[{w.index(at)}]"
        val, cur = f"val_{name}", f"cur_{name}"
        w.emit(indent, f"{val} = {source}[{w.index(here)}]")
        w.emit(indent, f"{cur} = best_{name}{cell}")
        w.emit(
            indent,
            f"if not seen_{name}{cell} or "
            f"({cur} == {cur} and ({val} {self.better} {cur} or {val} != {val})):",
        )
        w.emit(indent + 1, f"best_{name}{cell} = {val}")
        w.emit(indent + 1, f"seen_{name}{cell} = True")
        kept = at if keepdim else [a for d, a in enumerate(at) if not (axis is None or d == axis)]
        w.emit(
            indent + 1, f"{target}[{w.index(kept if axis is not None or keepdim else [])}] = {pos}"
        )
        if axis is None:
            w.emit(indent, f"flat_{name} += 1")


class ArgMax(ArgExtreme):
    name = "argmax"
    better = ">"
    numpy_arg = staticmethod(np.argmax)


class ArgMin(ArgExtreme):
    name = "argmin"
    better = "<"
    numpy_arg = staticmethod(np.argmin)


ARGMAX = register(ArgMax())
ARGMIN = register(ArgMin())
