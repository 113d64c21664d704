"""``permute``: reorder dims, a view of the same array (``.T`` for a matrix).

Example:
    >>> import numpy as np
    >>> from symgrad.ir.graph import Var
    >>> permute(Var((2, 3, 4), np.dtype('float64')), (2, 0, 1)).shape
    (4, 2, 3)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy

from symgrad.errors import ShapeError, shape_str
from symgrad.ir.graph import Node, Var
from symgrad.ir.primitive import Primitive, Schedule, register
from symgrad.ir.shapes import Shape, inverse_permutation, normalize_dim


@dataclass(frozen=True)
class PermuteParams:
    """Output dim ``i`` is input dim ``axes[i]`` (non-negative)."""

    axes: tuple[int, ...]


class Permute(Primitive):
    """Reorder dims; the gradient is the inverse permutation of ``g``."""

    name = "permute"
    schedule = Schedule.VIEW

    def shape_rule(self, params: PermuteParams, x: Any) -> tuple[Shape, np.dtype]:
        axes = params.axes
        if sorted(axes) != list(range(x.ndim)):
            raise ShapeError(
                f"permute: {axes} is not a permutation of the dims of {shape_str(x.shape)}"
            )
        return tuple(x.shape[a] for a in axes), x.dtype

    def evaluate(self, params: PermuteParams, x: np.ndarray) -> np.ndarray:
        return x.transpose(params.axes)

    def bind(self, inputs: Sequence[Var], params: PermuteParams) -> Var:
        (x,) = inputs
        shape, dtype = self.shape_rule(params, x)
        if params.axes == tuple(range(x.ndim)):
            return x
        return Node(self, [x], shape, dtype, params=params).output

    def vjp(self, node: Node, g: Var, wanted: Sequence[bool]) -> list[Var | None]:
        return [permute(g, inverse_permutation(node.params.axes))]

    def emit(self, w: Any, node: Node) -> None:
        axes = node.params.axes
        source = w.operand(node.inputs[0])
        view = f"{source}.T" if len(axes) == 2 else f"np.transpose({source}, {axes})"
        w.emit(1, f"{w.array(node.output)} = {view}")

    def display(self, node: Node, args: list[sympy.Expr]) -> sympy.Expr:
        if len(node.params.axes) == 2:
            return sympy.Function("transpose")(args[0])
        return sympy.Function(self.name)(*args)


PERMUTE = register(Permute())


def permute(x: Var, axes: Sequence[int]) -> Var:
    """Reorder dims: output dim i is input dim ``axes[i]`` (negative dims allowed)."""
    normal = tuple(normalize_dim(a, x.ndim, "permute") for a in axes)
    return PERMUTE.bind([x], PermuteParams(normal))


def swap_last_two(x: Var) -> Var:
    """``x`` with its last two dims swapped (the matrix transpose of each batch entry)."""
    return permute(x, (*range(x.ndim - 2), x.ndim - 1, x.ndim - 2))
