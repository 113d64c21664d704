"""``iota``: the positions ``0, 1, ..., n-1`` of a dimension whose size may be symbolic.

``sg.arange(n)`` of a traced size and the row indices of ``take_along_dim`` record
an iota node, so the kernel counts up to the size it finds at run time instead of
reading a constant array of the size seen while tracing.

Example:
    >>> iota(4).shape, IOTA.evaluate(IotaParams(4))
    ((4,), array([0, 1, 2, 3]))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from symgrad.ir.graph import Node, Var
from symgrad.ir.primitive import Primitive, Schedule, register
from symgrad.ir.shapes import Shape, Size


@dataclass(frozen=True)
class IotaParams:
    """How many positions (an int or a size expression)."""

    size: Size


class Iota(Primitive):
    """``arange(size)`` as int64, with no inputs."""

    name = "iota"
    schedule = Schedule.INDEX_LOOP
    differentiable = False

    def shape_rule(self, params: IotaParams, *inputs: Any) -> tuple[Shape, np.dtype]:
        return (params.size,), np.dtype(np.int64)

    def evaluate(self, params: IotaParams, *arrays: np.ndarray) -> np.ndarray:
        return np.arange(params.size, dtype=np.int64)

    def emit(self, w: Any, node: Node) -> None:
        target = w.allocate(node.output)
        w.emit(1, f"for i0 in range({node.params.size}):")
        w.emit(2, f"{target}[i0] = i0")


IOTA = register(Iota())


def iota(size: Size) -> Var:
    """A new value ``[0, 1, ..., size-1]`` (int64)."""
    return IOTA.bind([], IotaParams(size))
