"""The SymPy objects formulas are made of, beyond SymPy's own.

A value of rank 0 is a scalar SymPy expression; of rank 1 or 2 a SymPy matrix
expression (a vector of length ``n`` is an ``n×1`` column, as in textbooks); of
rank 3 or more a scalar-like expression over :class:`TensorSymbol` leaves whose
arithmetic is elementwise.  Where SymPy has no object for an op (a sum over an
axis, a slice, broadcasting a bias) the formula holds an :class:`Op` (scalar-like
result) or a :class:`MatOp` (matrix result): a named function with the IR shapes
of its operands, so that it can be evaluated.  :class:`Slot` puts a matrix
inside a scalar expression (``tanh(x*w + b)`` applies ``tanh`` to each entry)
and :class:`Elementwise` makes such an expression a matrix again.

Example:
    >>> x = leaf("x", (4, 3))
    >>> x.shape, leaf("a", ()).is_Symbol, leaf("v", (3,)).shape
    ((4, 3), True, (3, 1))
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy
from sympy.core.symbol import Str
from sympy.logic.boolalg import Boolean
from sympy.matrices.expressions.matexpr import MatrixExpr

Shape = tuple[int, ...]


def matrix_shape(shape: Shape) -> tuple[int, int]:
    """The SymPy shape of a rank-1 or rank-2 value: a vector is a column."""
    return (shape[0], 1) if len(shape) == 1 else (shape[0], shape[1])


def is_matrix_rank(shape: Shape) -> bool:
    """True for the ranks that are SymPy matrices (1 and 2)."""
    return len(shape) in (1, 2)


class Param(sympy.Atom):
    """A plain Python value (a shape, an index key, op parameters) inside a SymPy tree."""

    __slots__ = ("value",)

    def __new__(cls, value: Any) -> Param:
        obj = super().__new__(cls)
        obj.value = value
        return obj

    def _hashable_content(self) -> tuple:
        return (self.value,)

    def _sympystr(self, printer: Any) -> str:
        return repr(self.value)

    def __getnewargs__(self) -> tuple:
        return (self.value,)

    def compare(self, other: sympy.Basic) -> int:
        """An order for sorting terms (SymPy sorts the terms of sums and products)."""
        if not isinstance(other, Param):
            return super().compare(other)
        a, b = str(self.value), str(other.value)
        return (a > b) - (a < b)


def _param(value: Any) -> Param:
    if isinstance(value, Param):
        return value
    return Param(tuple(value) if isinstance(value, list | tuple) else value)


def _hidden(operands: tuple) -> Param:
    """Operands kept out of SymPy's sight: its rewrites (``piecewise_fold``) would reach
    into them and move an entrywise ``Piecewise`` out of a sum."""
    if len(operands) == 1 and isinstance(operands[0], Param):
        return operands[0]
    return Param(tuple(operands))


class _Opaque(sympy.Symbol):
    """A symbol standing for a structured value, so that SymPy's logic (which looks for
    the free symbols of a condition) treats it as the variable it is."""

    def __new__(cls, name: str, payload: tuple) -> _Opaque:
        obj = sympy.Symbol.__xnew__(cls, name, real=True)
        obj.payload = payload
        obj._content = Param(payload)  # a Basic, so that SymPy's sorting can compare it
        return obj

    def __getnewargs_ex__(self) -> tuple:
        return (self.name, self.payload), {}

    def _hashable_content(self) -> tuple:
        return (*super()._hashable_content(), self._content)


class TensorSymbol(_Opaque):
    """A named value of rank 3 or more; arithmetic on it is elementwise."""

    def __new__(cls, name: str, shape: Shape) -> TensorSymbol:
        return super().__new__(cls, str(name), (tuple(shape),))

    @property
    def ir_shape(self) -> Shape:
        return self.payload[0]


class Slot(_Opaque):
    """A matrix (or any value) standing, entry by entry, inside a scalar expression."""

    def __new__(cls, term: sympy.Basic, shape: Shape) -> Slot:
        return super().__new__(cls, "slot", (term, tuple(shape)))

    @property
    def term(self) -> sympy.Basic:
        return self.payload[0]

    @property
    def ir_shape(self) -> Shape:
        return self.payload[1]

    @property
    def precedence(self) -> int:
        from sympy.printing.precedence import precedence

        return precedence(self.term)


class Elementwise(MatrixExpr):
    """A scalar expression over :class:`Slot` leaves, applied entry by entry: a matrix."""

    def __new__(cls, expr: sympy.Expr, shape: Shape | Param) -> Elementwise:
        return super().__new__(cls, expr, _param(shape))

    @property
    def expr(self) -> sympy.Expr:
        return self.args[0]

    @property
    def ir_shape(self) -> Shape:
        return self.args[1].value

    @property
    def shape(self) -> tuple[int, int]:
        return matrix_shape(self.ir_shape)

    @property
    def precedence(self) -> int:
        from sympy.printing.precedence import precedence

        return precedence(self.expr)

    def doit(self, **hints: Any) -> Elementwise:
        return self


@dataclass(frozen=True)
class OpInfo:
    """What an op node is: its printed ``name``, the ``primitive`` that evaluates it
    (``None`` for the transparent ``broadcast``/``scalar``), its ``params``, and the
    IR shapes and dtypes of its operands and result."""

    name: str
    primitive: str | None
    params: Any
    in_shapes: tuple[Shape, ...]
    in_dtypes: tuple[str, ...]
    shape: Shape


class _OpMixin:
    args: tuple

    @property
    def info(self) -> OpInfo:
        return self.args[0].value

    @property
    def operands(self) -> tuple[sympy.Basic, ...]:
        return self.args[1].value

    @property
    def ir_shape(self) -> Shape:
        return self.info.shape

    @property
    def precedence(self) -> int:
        from sympy.printing.precedence import PRECEDENCE, precedence

        if self.info.name in TRANSPARENT:
            return precedence(self.operands[0])
        return PRECEDENCE["Atom"] if self.info.name == "getitem" else PRECEDENCE["Func"]


#: Ops printed as their operand: broadcasting follows NumPy's rules, and a 1×1 matrix
#: is a number.
TRANSPARENT = ("broadcast", "scalar")


class Op(_OpMixin, _Opaque):
    """A named op whose result is a scalar or a tensor of rank 3 or more."""

    def __new__(cls, info: OpInfo, *operands: sympy.Basic) -> Op:
        return _Opaque.__new__(cls, info.name, (info, tuple(operands)))

    @property
    def info(self) -> OpInfo:
        return self.payload[0]

    @property
    def operands(self) -> tuple[sympy.Basic, ...]:
        return self.payload[1]


class MatOp(_OpMixin, MatrixExpr):
    """A named op whose result is a matrix (rank 1 or 2)."""

    def __new__(cls, info: OpInfo | Param, *operands: sympy.Basic) -> MatOp:
        return super().__new__(cls, _param(info), _hidden(operands))

    @property
    def shape(self) -> tuple[int, int]:
        return matrix_shape(self.info.shape)

    def doit(self, **hints: Any) -> MatOp:
        return self


def make_op(info: OpInfo, *operands: sympy.Basic) -> sympy.Basic:
    """An :class:`Op` or :class:`MatOp`, by the rank of the result."""
    return (MatOp if is_matrix_rank(info.shape) else Op)(info, *operands)


def leaf(name: str, shape: Shape) -> sympy.Basic:
    """The symbol for a named value of ``shape``: Symbol, MatrixSymbol or TensorSymbol."""
    if not shape:
        return sympy.Symbol(name, real=True)
    if is_matrix_rank(shape):
        return sympy.MatrixSymbol(name, *matrix_shape(shape))
    return TensorSymbol(name, shape)


def broadcast(term: sympy.Basic, source: Shape, target: Shape, dtype: str = "float64"):
    """``term`` (of IR shape ``source``) broadcast to ``target``; nested broadcasts merge."""
    if tuple(source) == tuple(target):
        return term
    if isinstance(term, Op | MatOp) and term.info.name == "broadcast":
        term, source = term.operands[0], term.info.in_shapes[0]
    if not target:
        return term
    info = OpInfo("broadcast", None, None, (tuple(source),), (dtype,), tuple(target))
    return make_op(info, term)


def scalar_source(term: sympy.Basic) -> sympy.Expr | None:
    """The scalar a broadcast of a scalar spreads, else None."""
    if isinstance(term, Op | MatOp) and term.info.name == "broadcast":
        inner = term.operands[0]
        if not term.info.in_shapes[0]:
            return inner
    if isinstance(term, sympy.Expr) and not has_tensors(term):
        return term
    return None


def children(term: sympy.Basic) -> Iterator[sympy.Basic]:
    """The sub-terms that are values (not shapes or parameters), hidden ones included."""
    if isinstance(term, Op | MatOp):
        yield from term.operands
    elif isinstance(term, Slot):
        yield term.term
    elif isinstance(term, TensorSymbol | sympy.MatrixSymbol):
        return
    else:
        for a in term.args:
            if not isinstance(a, Param | Str):
                yield a


def replace(term: sympy.Basic, mapping: dict) -> sympy.Basic:
    """``term`` with each key of ``mapping`` replaced, inside ops and slots too."""
    if term in mapping:
        return mapping[term]
    if isinstance(term, Op | MatOp):
        return type(term)(term.info, *(replace(o, mapping) for o in term.operands))
    if isinstance(term, Slot):
        return Slot(replace(term.term, mapping), term.ir_shape)
    if isinstance(term, Elementwise):
        return Elementwise(replace(term.expr, mapping), term.ir_shape)
    if not term.args or isinstance(term, TensorSymbol | sympy.MatrixSymbol):
        return term
    return term.func(*(replace(a, mapping) for a in term.args))


def walk(term: sympy.Basic) -> Iterator[sympy.Basic]:
    """Every sub-term of ``term`` (hidden ones included), parents first."""
    stack = [term]
    while stack:
        t = stack.pop()
        yield t
        stack.extend(children(t))


def size(term: sympy.Basic, limit: int = 10_000) -> int:
    """How many operations ``term`` has (leaves and numbers are free); counts up to ``limit``."""
    count, stack = 0, [term]
    while stack and count < limit:
        t = stack.pop()
        if isinstance(t, Op | MatOp) and t.info.name in TRANSPARENT:
            stack.extend(t.operands)
            continue
        if isinstance(t, Slot | Elementwise):
            stack.extend(children(t))
            continue
        if isinstance(t, TensorSymbol | sympy.MatrixSymbol | sympy.OneMatrix) or (
            t.is_Atom and not isinstance(t, Op)
        ):
            continue
        count += 1
        stack.extend(children(t))
    return count


def has_tensors(expr: sympy.Basic) -> bool:
    """True when a scalar-like expression holds a value of rank >= 1 (so it is a tensor)."""
    stack = [expr]
    while stack:
        t = stack.pop()
        if isinstance(t, Slot | TensorSymbol | MatrixExpr):
            return True
        if isinstance(t, Op):
            if t.info.shape:
                return True
            continue
        stack.extend(children(t))
    return False


def is_boolean(term: sympy.Basic) -> bool:
    """True for a condition (``x > 0``, ``Ne(c, 0)``, ``True``), not a number or a symbol."""
    return isinstance(term, Boolean) and not isinstance(term, sympy.Expr)


def dtype_name(dtype: np.dtype) -> str:
    return np.dtype(dtype).name
