"""``matmul`` with NumPy's rules: 1-D operands promoted, batch dims broadcast; BLAS in kernels.

Example:
    >>> import numpy as np
    >>> from symgrad.ir.graph import Var
    >>> f64 = np.dtype('float64')
    >>> matmul(Var((2, 3, 4), f64), Var((4, 5), f64)).shape
    (2, 3, 5)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from symgrad.errors import ShapeError, UnsupportedOpError, shape_str
from symgrad.ir.graph import Node, Var
from symgrad.ir.primitive import Primitive, Schedule, register
from symgrad.ir.primitives.core import reshape, unbroadcast
from symgrad.ir.primitives.permute import PERMUTE, swap_last_two
from symgrad.ir.shapes import Shape, broadcast_shapes


def matmul_shape(a: Shape, b: Shape) -> Shape:
    """The result shape of ``a @ b``, or a ShapeError naming both shapes."""
    if not a or not b:
        raise ShapeError(
            f"matmul needs tensors with at least 1 dim, got {shape_str(a)} and {shape_str(b)}"
        )
    a2 = (1, *a) if len(a) == 1 else a
    b2 = (*b, 1) if len(b) == 1 else b
    if a2[-1] != b2[-2]:
        raise ShapeError(
            f"matmul: shapes {shape_str(a)} and {shape_str(b)} do not fit "
            f"({a2[-1]} columns against {b2[-2]} rows)"
        )
    batch = broadcast_shapes("matmul", a2[:-2], b2[:-2])
    shape = (*batch, a2[-2], b2[-1])
    if len(a) == 1:
        shape = shape[:-2] + shape[-1:]
    if len(b) == 1:
        shape = shape[:-1]
    return shape


class MatMul(Primitive):
    """Matrix product.  Recorded nodes always have operands of rank >= 2 (1-D operands
    are reshaped around the node); the kernel calls BLAS (``sg_gemm``) per batch entry."""

    name = "matmul"
    schedule = Schedule.LIBRARY
    kernel_locals = ("ma", "mb")

    def shape_rule(self, params: None, a: Any, b: Any) -> tuple[Shape, np.dtype]:
        return matmul_shape(a.shape, b.shape), np.result_type(a.dtype, b.dtype)

    def evaluate(self, params: None, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.matmul(a, b)

    def bind(self, inputs: Sequence[Var], params: None = None) -> Var:
        a, b = inputs
        out_shape, dtype = self.shape_rule(params, a, b)
        a2 = reshape(a, (1, *a.shape)) if a.ndim == 1 else a
        b2 = reshape(b, (*b.shape, 1)) if b.ndim == 1 else b
        if a2.ndim > 2 and b2.ndim == 2:
            # (B, T, K) @ (K, N) is one (B*T, K) @ (K, N) product, as PyTorch folds it: one
            # BLAS call, and b's gradient one product instead of B products summed
            a2 = reshape(a2, (math.prod(a2.shape[:-1]), a2.shape[-1]))
        batch = broadcast_shapes("matmul", a2.shape[:-2], b2.shape[:-2])
        shape = (*batch, a2.shape[-2], b2.shape[-1])
        product = Node(self, [a2, b2], shape, dtype).output
        return reshape(product, out_shape)

    def vjp(self, node: Node, g: Var, wanted: Sequence[bool]) -> list[Var | None]:
        a, b = node.inputs
        grad_a = matmul(g, swap_last_two(b)) if wanted[0] else None
        grad_b = matmul(swap_last_two(a), g) if wanted[1] else None
        return [
            unbroadcast(grad, var.shape) if grad is not None else None
            for grad, var in ((grad_a, a), (grad_b, b))
        ]

    def emit(self, w: Any, node: Node) -> None:
        a, b = node.inputs
        out = node.output
        if out.dtype.kind != "f":
            raise UnsupportedOpError(
                f"matmul of {a.dtype} tensors {a.shape} and {b.shape} is not supported; "
                "convert them with .double() or .float() first"
            )
        target = w.allocate(out)
        operands = []
        for var in (a, b):
            text = w.operand(var)
            if var.dtype != out.dtype:
                text = f"{text}.astype(np.{out.dtype.name})"
            operands.append(text)
        batch = out.shape[:-2]
        if not batch:
            left, right = (_blas_operand(v, t) for v, t in zip((a, b), operands, strict=True))
            w.gemm(1, left, right, target)
            return
        for stem, text in zip(("ma", "mb"), operands, strict=True):
            w.emit(1, f"{stem}_{w.names[out]} = {text}")
        indent = w.loop_nest(batch, "ib")
        picks = []
        for stem, var in zip(("ma", "mb"), (a, b), strict=True):
            extra = len(batch) - (var.ndim - 2)
            idx = ["0" if var.shape[d] == 1 else f"ib{d + extra}" for d in range(var.ndim - 2)]
            picks.append(f"np.ascontiguousarray({stem}_{w.names[out]}[{w.index(idx)}])")
        where = ", ".join(f"ib{d}" for d in range(len(batch)))
        w.gemm(indent, picks[0], picks[1], f"{target}[{where}]")


def _blas_operand(var: Var, text: str) -> str:
    producer = var.producer
    if producer is not None and producer.primitive is PERMUTE and var.ndim == 2:
        # a .T view: Fortran order (BLAS takes it as it is) when it transposes a contiguous
        # array, else (a strided slice, a broadcast argument) copied into that order
        return f"np.asfortranarray({text})"
    return f"np.ascontiguousarray({text})"


MATMUL = register(MatMul())


def matmul(a: Var, b: Var) -> Var:
    """``a @ b`` for any ranks >= 1 (1-D operands promoted, batch dims broadcast)."""
    return MATMUL.bind([a, b])
