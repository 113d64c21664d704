"""Numbers from formulas: each SymPy term computed with NumPy, independently of the kernels.

Matrix terms are computed as 2-D arrays (a vector as a column), scalar and
tensor terms with their IR shapes; a named op is computed by its primitive's own
NumPy definition, and a scalar expression by ``sympy.lambdify`` over the values
of its leaves.

Example:
    >>> import numpy as np, sympy
    >>> from symgrad.formulas.terms import leaf
    >>> x = leaf("x", (2, 2))
    >>> Evaluator({x: np.eye(2)}).value(sympy.MatMul(2, x.T, x))
    array([[2., 0.],
           [0., 2.]])
"""

from __future__ import annotations

from collections.abc import Callable
from functools import reduce

import numpy as np
import sympy
from sympy.matrices.expressions.matexpr import MatrixExpr

from symgrad.errors import UnsupportedOpError
from symgrad.formulas.terms import (
    Elementwise,
    MatOp,
    Op,
    Slot,
    TensorSymbol,
    children,
    matrix_shape,
)
from symgrad.ir import PRIMITIVES
from symgrad.ir.sympy_functions import NUMPY_IMPLEMENTATIONS

_LAMBDAS: dict[sympy.Basic, Callable] = {}


def to_ir(term: sympy.Basic, value: np.ndarray, shape: tuple) -> np.ndarray:
    """A term's value in the IR shape ``shape`` (a matrix's is a reshape of it)."""
    value = np.asarray(value)
    if isinstance(term, MatrixExpr):
        return value.reshape(shape)
    return np.broadcast_to(value, shape)


def _opaque(expr: sympy.Basic) -> bool:
    return isinstance(expr, sympy.Symbol | TensorSymbol | Op | Slot | MatrixExpr)


class Evaluator:
    """Values of terms, given the values of their leaves (``{symbol: array}``)."""

    def __init__(self, leaves: dict[sympy.Basic, np.ndarray]):
        self.memo: dict[sympy.Basic, np.ndarray] = {}
        for symbol, array in leaves.items():
            array = np.asarray(array)
            if isinstance(symbol, sympy.MatrixSymbol):
                array = array.reshape(symbol.shape)
            self.memo[symbol] = array

    def define(self, symbol: sympy.Basic, term: sympy.Basic) -> None:
        """Give a named intermediate the value of its definition."""
        self.memo[symbol] = self.value(term)

    def value(self, term: sympy.Basic) -> np.ndarray:
        """The value of ``term``: 2-D for a matrix term, its IR shape otherwise."""
        found = self.memo.get(term)
        if found is None:
            with np.errstate(all="ignore"):
                found = self.memo[term] = self._compute(term)
        return found

    def _compute(self, term: sympy.Basic) -> np.ndarray:
        if isinstance(term, Op | MatOp):
            return self._op(term)
        if isinstance(term, Slot):
            return to_ir(term.term, self.value(term.term), term.ir_shape)
        if isinstance(term, Elementwise):
            value = np.broadcast_to(self._scalar(term.expr), term.ir_shape)
            return value.reshape(term.shape)
        if isinstance(term, MatrixExpr):
            return self._matrix(term)
        if isinstance(term, sympy.Symbol | TensorSymbol | sympy.MatrixSymbol):
            raise UnsupportedOpError(f"formula evaluation: no value for {term}")
        return self._scalar(term)

    def _op(self, term: Op | MatOp) -> np.ndarray:
        info = term.info
        arrays = [
            to_ir(o, self.value(o), shape).astype(dtype)
            for o, shape, dtype in zip(term.operands, info.in_shapes, info.in_dtypes, strict=True)
        ]
        if info.primitive is None:  # broadcast, scalar
            result = np.broadcast_to(arrays[0].reshape(arrays[0].shape), info.shape)
        else:
            result = PRIMITIVES[info.primitive].evaluate(info.params, *arrays)
        result = np.asarray(result)
        return result.reshape(term.shape) if isinstance(term, MatOp) else result

    def _matrix(self, term: MatrixExpr) -> np.ndarray:
        if isinstance(term, sympy.MatMul):
            scalars = [self.value(a) for a in term.args if not isinstance(a, MatrixExpr)]
            matrices = [self.value(a) for a in term.args if isinstance(a, MatrixExpr)]
            product = reduce(np.matmul, matrices)
            return reduce(np.multiply, scalars, product)
        if isinstance(term, sympy.MatAdd):
            return reduce(np.add, (self.value(a) for a in term.args))
        if isinstance(term, sympy.HadamardProduct):
            return reduce(np.multiply, (self.value(a) for a in term.args))
        if isinstance(term, sympy.HadamardPower):
            return self.value(term.base) ** self.value(term.exp)
        if isinstance(term, sympy.Transpose):
            return self.value(term.arg).T
        if isinstance(term, sympy.OneMatrix):
            return np.ones(term.shape)
        if isinstance(term, sympy.ZeroMatrix):
            return np.zeros(term.shape)
        if isinstance(term, sympy.Identity):
            return np.eye(term.rows)
        raise UnsupportedOpError(f"formula evaluation: {type(term).__name__} is not supported")

    def _scalar(self, expr: sympy.Basic) -> np.ndarray:
        """A scalar-like expression, entry by entry over its leaves' arrays."""
        if expr.is_Number:
            return np.asarray(float(expr))
        leaves: dict[sympy.Basic, sympy.Dummy] = {}

        def opaque(e: sympy.Basic) -> sympy.Basic:
            if _opaque(e):
                return leaves.setdefault(e, sympy.Dummy(f"v{len(leaves)}", real=True))
            if not e.args or e.is_Number:
                return e
            return e.func(*(opaque(a) for a in e.args))

        body = opaque(expr)
        dummies = list(leaves.values())
        key = sympy.Tuple(sympy.Tuple(*dummies), body)
        fn = _LAMBDAS.get(key)
        if fn is None:
            fn = _LAMBDAS[key] = sympy.lambdify(
                dummies, body, modules=[NUMPY_IMPLEMENTATIONS, "scipy", "numpy"]
            )
        # One shape for all (NumPy's ``select``, which Piecewise becomes, does not broadcast).
        values = np.broadcast_arrays(*(self.value(e) for e in leaves))
        return np.asarray(fn(*values))


def matrix_value(term: sympy.Basic, shape: tuple, evaluator: Evaluator) -> np.ndarray:
    """The value of ``term`` as a float64 array of the IR shape ``shape``."""
    value = evaluator.value(term)
    if isinstance(term, MatrixExpr) and value.shape == matrix_shape(shape):
        value = value.reshape(shape)
    return np.array(np.broadcast_to(value, shape), dtype=np.float64)


_ = children  # re-exported for callers walking terms
