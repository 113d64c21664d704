"""``concat``: join same-rank tensors along one dim; the gradient slices ``g`` back apart.

Example:
    >>> import numpy as np
    >>> from symgrad.ir.graph import Var
    >>> f64 = np.dtype('float64')
    >>> concat([Var((2, 3), f64), Var((2, 1), f64)], 1).shape
    (2, 4)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from symgrad.errors import ShapeError, shape_str
from symgrad.ir.graph import Node, Var
from symgrad.ir.primitive import Primitive, Schedule, register
from symgrad.ir.primitives.indexing import SLICE, gather
from symgrad.ir.shapes import Shape, normalize_dim


@dataclass(frozen=True)
class ConcatParams:
    """The dim to join along (non-negative)."""

    dim: int


class Concat(Primitive):
    """Join tensors along ``params.dim``; every other dim must match."""

    name = "concat"
    schedule = Schedule.INDEX_LOOP

    def shape_rule(self, params: ConcatParams, *xs: Any) -> tuple[Shape, np.dtype]:
        if not xs:
            raise ShapeError("cat needs at least one tensor")
        first, dim = xs[0], params.dim
        for x in xs[1:]:
            others_match = all(
                a == b
                for i, (a, b) in enumerate(zip(x.shape, first.shape, strict=False))
                if i != dim
            )
            if x.ndim != first.ndim or not others_match:
                listed = ", ".join(shape_str(v.shape) for v in xs)
                raise ShapeError(f"cat: shapes {listed} differ outside dim {dim}")
        shape = list(first.shape)
        shape[dim] = sum(x.shape[dim] for x in xs)
        return tuple(shape), np.result_type(*(x.dtype for x in xs))

    def evaluate(self, params: ConcatParams, *arrays: np.ndarray) -> np.ndarray:
        return np.concatenate(arrays, axis=params.dim)

    def vjp(self, node: Node, g: Var, wanted: Sequence[bool]) -> list[Var | None]:
        dim = node.params.dim
        grads, offset = [], 0
        for x, want in zip(node.inputs, wanted, strict=True):
            size = x.shape[dim]
            if want:
                key = tuple(
                    (SLICE, offset, offset + size, 1) if d == dim else (SLICE, None, None, None)
                    for d in range(x.ndim)
                )
                grads.append(gather(g, [], key))
            else:
                grads.append(None)
            offset += size
        return grads

    def emit(self, w: Any, node: Node) -> None:
        dim = node.params.dim
        target = w.allocate(node.output)
        offset = 0
        for x in node.inputs:
            parts = [":"] * x.ndim
            parts[dim] = f"{offset}:{offset + x.shape[dim]}"
            w.emit(1, f"{target}[{', '.join(parts)}] = {w.operand(x)}")
            offset += x.shape[dim]


CONCAT = register(Concat())


def concat(xs: Sequence[Var], dim: int) -> Var:
    """Join same-rank values along ``dim`` (negative dims allowed)."""
    if not xs:
        raise ShapeError("cat needs at least one tensor")
    return CONCAT.bind(list(xs), ConcatParams(normalize_dim(dim, xs[0].ndim, "cat")))
