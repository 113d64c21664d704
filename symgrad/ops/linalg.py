"""Matrix multiplication: shape rules and the IR builder, NumPy's ``matmul`` semantics.

1-D operands are promoted (a row vector on the left, a column on the right) and the
added dim dropped again; batch dims broadcast.

Example:
    >>> import numpy as np
    >>> from symgrad.ir import Var
    >>> f64 = np.dtype('float64')
    >>> matmul(Var((2, 3, 4), f64), Var((4, 5), f64)).shape
    (2, 3, 5)
"""

from __future__ import annotations

import numpy as np

from symgrad import ir
from symgrad.errors import ShapeError, shape_str
from symgrad.ops.structured import broadcast_shapes, reshape


def matmul_shape(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
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


def matmul(a: ir.Var, b: ir.Var) -> ir.Var:
    """``a @ b`` for any ranks >= 1 (1-D operands promoted, batch dims broadcast)."""
    out_shape = matmul_shape(a.shape, b.shape)
    a2 = reshape(a, (1, *a.shape)) if a.ndim == 1 else a
    b2 = reshape(b, (*b.shape, 1)) if b.ndim == 1 else b
    batch = broadcast_shapes("matmul", a2.shape[:-2], b2.shape[:-2])
    shape = (*batch, a2.shape[-2], b2.shape[-1])
    dtype = np.result_type(a.dtype, b.dtype)
    product = ir.structured("matmul", [a2, b2], shape, dtype)
    return reshape(product, out_shape)
