"""Symbolic sizes: one SymPy symbol per traced argument dimension, with guards.

While a function is traced, each dimension of each argument that is not 0 or 1 is a
:class:`SymSize`: a SymPy expression over size symbols plus the example value it
had (its *hint*).  Arithmetic keeps it symbolic (``n*64``, ``n - 1``); comparing it
(``n == 64``, ``n > 3``) answers from the hints and records the answer as a
*guard*; turning it into a Python int (``range(n)``, ``int(n)``, NumPy shapes)
specialises it to its hint, also with a guard.  So a trace is right for every set of
sizes its guards accept, and a kernel built from it reads the free sizes from its
arrays at run time: a new batch size costs neither a trace nor a compile.

After the trace, :mod:`symgrad.ir.size_rewrite` rewrites the graph: sizes pinned by an
equality guard become ints or the symbol they equal, the rest are renamed ``n_0, n_1,
...`` in argument order.

Example:
    >>> env = SizeEnv()
    >>> n = env.dim(0, 0, 64)
    >>> m = n * 3 - 1
    >>> m, m.expr
    (191, 3*d0_0 - 1)
    >>> n != 1, env.guards  # every traced size is at least 2: nothing to remember
    (True, [])
    >>> n == 64, env.guards  # answered from the example, and remembered
    (True, [Eq(d0_0 - 64, 0)])
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import sympy

SIZE_PREFIX = "n_"


def size_symbol(k: int) -> sympy.Symbol:
    """The ``k``-th free size of a finished graph (``n_0``, ``n_1``, ...)."""
    return sympy.Symbol(f"{SIZE_PREFIX}{k}", integer=True, positive=True)


def is_size_symbol(symbol: sympy.Basic) -> bool:
    """True for a size symbol of a finished graph (``n_3``)."""
    return isinstance(symbol, sympy.Symbol) and symbol.name.startswith(SIZE_PREFIX)


_RELATIONS: dict[str, tuple[Callable, Callable, str]] = {
    # name: (compare hints, relation of the difference to 0, negation)
    "==": (operator.eq, sympy.Eq, "!="),
    "!=": (operator.ne, sympy.Ne, "=="),
    "<": (operator.lt, sympy.Lt, ">="),
    "<=": (operator.le, sympy.Le, ">"),
    ">": (operator.gt, sympy.Gt, "<="),
    ">=": (operator.ge, sympy.Ge, "<"),
}


class SizeEnv:
    """The size symbols of one trace, their example values, and the guards recorded."""

    def __init__(self) -> None:
        self.hints: dict[sympy.Symbol, int] = {}
        self.dims: dict[sympy.Symbol, tuple[int, int]] = {}  # symbol -> (argument, dim)
        self.guards: list[sympy.Basic] = []
        self._recorded: set[sympy.Basic] = set()
        self._shift: dict[sympy.Symbol, sympy.Expr] = {}

    def dim(self, argument: int, dim: int, hint: int) -> SymSize:
        """The size of dimension ``dim`` of argument ``argument`` (example value ``hint``)."""
        symbol = sympy.Symbol(f"d{argument}_{dim}", integer=True, positive=True)
        self.hints[symbol] = hint
        self.dims[symbol] = (argument, dim)
        # Every symbolic size is at least 2 (0 and 1 are part of the signature), so a
        # size is m + 2 for some m >= 0: SymPy then decides n != 1, n > 0, 2*n > n.
        self._shift[symbol] = sympy.Symbol(f"m{argument}_{dim}", integer=True, nonnegative=True) + 2
        return SymSize(symbol, hint, self)

    def decide(self, relation: str, difference: sympy.Expr, hint_answer: bool) -> bool:
        """``difference <relation> 0``: proven when SymPy can, else the hints' answer, guarded."""
        shifted = difference.xreplace(self._shift)
        known = {
            "==": shifted.is_zero,
            "!=": None if shifted.is_zero is None else not shifted.is_zero,
            "<": shifted.is_negative,
            "<=": shifted.is_nonpositive,
            ">": shifted.is_positive,
            ">=": shifted.is_nonnegative,
        }[relation]
        if known is not None and bool(known) == hint_answer:
            return hint_answer
        held = relation if hint_answer else _RELATIONS[relation][2]
        guard = _RELATIONS[held][1](difference, 0, evaluate=False)
        if guard not in self._recorded:
            self._recorded.add(guard)
            self.guards.append(guard)
        return hint_answer

    def pin(self, size: SymSize) -> int:
        """Specialise ``size`` to its example value (a guard says it stays so)."""
        if not size.expr.is_number:
            self.decide("==", size.expr - size.hint, True)
        return size.hint


def _split(value: object) -> tuple[Any, int] | None:
    """(expression, hint) of a size or an int; None for anything else."""
    if isinstance(value, SymSize):
        return value.expr, value.hint
    if isinstance(value, int) and not isinstance(value, bool):
        return sympy.Integer(value), value
    if hasattr(value, "__index__") and not isinstance(value, float):
        try:
            v = operator.index(value)
        except TypeError:
            return None
        return sympy.Integer(v), v
    return None


class SymSize:
    """A traced size: a SymPy expression over size symbols and its example value.

    Arithmetic with ints and other sizes stays symbolic; comparisons answer from the
    example values and record guards; ``int()``/``__index__`` specialise.
    """

    __slots__ = ("env", "expr", "hint")

    def __init__(self, expr: sympy.Expr, hint: int, env: SizeEnv):
        self.expr = expr
        self.hint = hint
        self.env = env

    # --- arithmetic ---------------------------------------------------------------------
    def _arith(self, other: object, fn: Callable, reflected: bool = False) -> Any:
        parts = _split(other)
        if parts is None:
            if isinstance(other, float):  # a float operand: the size's example value
                pinned = self.env.pin(self)
                return fn(other, pinned) if reflected else fn(pinned, other)
            return NotImplemented
        expr, hint = parts
        a, b = (
            ((expr, hint), (self.expr, self.hint))
            if reflected
            else ((self.expr, self.hint), (expr, hint))
        )
        return _size(fn(a[0], b[0]), fn(a[1], b[1]), self.env)

    def __add__(self, other: object) -> Any:
        return self._arith(other, operator.add)

    def __radd__(self, other: object) -> Any:
        return self._arith(other, operator.add, True)

    def __sub__(self, other: object) -> Any:
        return self._arith(other, operator.sub)

    def __rsub__(self, other: object) -> Any:
        return self._arith(other, operator.sub, True)

    def __mul__(self, other: object) -> Any:
        return self._arith(other, operator.mul)

    def __rmul__(self, other: object) -> Any:
        return self._arith(other, operator.mul, True)

    def __floordiv__(self, other: object) -> Any:
        return self._arith(other, floor_divide)

    def __rfloordiv__(self, other: object) -> Any:
        return self._arith(other, floor_divide, True)

    def __mod__(self, other: object) -> Any:
        return self._arith(other, _mod)

    def __rmod__(self, other: object) -> Any:
        return self._arith(other, _mod, True)

    def __neg__(self) -> SymSize:
        return SymSize(-self.expr, -self.hint, self.env)

    def __pos__(self) -> SymSize:
        return self

    def __truediv__(self, other: object) -> float:
        return self.env.pin(self) / other

    def __rtruediv__(self, other: object) -> float:
        return other / self.env.pin(self)

    # --- comparisons: answered from the hints, recorded as guards -----------------------
    def _compare(self, other: object, relation: str) -> Any:
        parts = _split(other)
        if parts is None:
            if isinstance(other, float):
                return _RELATIONS[relation][0](self.env.pin(self), other)
            return NotImplemented
        expr, hint = parts
        answer = _RELATIONS[relation][0](self.hint, hint)
        difference = self.expr - expr
        if difference.is_number:
            return _RELATIONS[relation][0](difference, 0)
        return self.env.decide(relation, difference, answer)

    def __eq__(self, other: object) -> Any:  # type: ignore[override]
        return self._compare(other, "==")

    def __ne__(self, other: object) -> Any:  # type: ignore[override]
        return self._compare(other, "!=")

    def __lt__(self, other: object) -> Any:
        return self._compare(other, "<")

    def __le__(self, other: object) -> Any:
        return self._compare(other, "<=")

    def __gt__(self, other: object) -> Any:
        return self._compare(other, ">")

    def __ge__(self, other: object) -> Any:
        return self._compare(other, ">=")

    def __hash__(self) -> int:
        # By expression, not by example value: a memo keyed by shapes must not find
        # another trace's entry (or a concrete one) through a guarded comparison.
        return hash(("size", self.expr))

    def __bool__(self) -> bool:
        return bool(self != 0)

    # --- leaving the symbolic world: specialise ------------------------------------------
    def __index__(self) -> int:
        return self.env.pin(self)

    __int__ = __index__

    def __float__(self) -> float:
        return float(self.env.pin(self))

    def __repr__(self) -> str:
        return str(self.hint)

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return format(self.hint, spec)


class FloorDiv(sympy.Function):
    """``p // q`` of integer sizes, as Python computes it: a size kernels compute from
    their arrays' sizes (a strided conv's or a stepped slice's output length) instead
    of pinning it.  It prints as Python integer code and evaluates on integers; equal
    sizes get one form (integer coefficients in ``[0, q)``, the rest taken outside).

    Example:
        >>> n = sympy.Symbol("n", integer=True, positive=True)
        >>> FloorDiv(n - 1, 2) + 1, FloorDiv(n + 7, 2), FloorDiv(n - 1, 2).xreplace({n: 8})
        (((n + 1) // 2), ((n + 1) // 2) + 3, 3)
    """

    is_integer = True

    @classmethod
    def eval(cls, p: sympy.Expr, q: sympy.Expr) -> sympy.Expr | None:
        if p.is_Integer and q.is_Integer:
            return sympy.Integer(int(p) // int(q))
        if q == 1 or p == 0:
            return p
        if q.is_Integer and q > 0:  # canonical: coefficients in [0, q), the rest outside
            pulled, kept = [], []
            for term in sympy.Add.make_args(sympy.expand(p)):
                c, rest = term.as_coeff_Mul()
                pulled.append(c // q * rest if c.is_Integer else 0)
                kept.append(c % q * rest if c.is_Integer else term)
            if any(pulled):
                return cls(sympy.Add(*kept), q) + sympy.Add(*pulled)
            return None
        # terms that q divides leave the floor: (a + q*b) // q == a // q + b
        whole, rest = [], []
        for term in sympy.Add.make_args(sympy.expand(p)):
            quotient, denominator = sympy.fraction(sympy.cancel(term / q))
            if denominator == 1:
                whole.append(quotient)
            else:
                rest.append(term)
        if not whole:
            return None
        return cls(sympy.Add(*rest), q) + sympy.Add(*whole)

    def _code(self, printer: Any) -> str:
        p, q = (printer._print(a) if a.is_Atom else f"({printer._print(a)})" for a in self.args)
        return f"({p} // {q})"

    _sympystr = _pythoncode = _numpycode = _code

    def _latex(self, printer: Any) -> str:
        p, q = (printer._print(a) for a in self.args)
        return rf"\left\lfloor \frac{{{p}}}{{{q}}} \right\rfloor"


def floor_divide(a: Any, b: Any) -> Any:
    """``a // b`` of ints, :class:`SymSize` or SymPy sizes alike (SymPy's own ``//`` gives
    ``floor(a/b)``, which kernels cannot compute).

    >>> floor_divide(7, 2), floor_divide(sympy.Symbol("n") + 3, 1)
    (3, n + 3)
    """
    if isinstance(a, sympy.Basic) or isinstance(b, sympy.Basic):
        return FloorDiv(a, b)
    return a // b


def _mod(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int):
        return a % b
    return a - b * FloorDiv(a, b)


def _size(expr: sympy.Expr, hint: int, env: SizeEnv) -> SymSize | int:
    """A size from its parts: a plain int when the expression is a number."""
    if expr.is_number:
        return int(expr)
    return SymSize(expr, hint, env)


def size_expr(size: object) -> Any:
    """The SymPy expression of a size (ints stay ints)."""
    return size.expr if isinstance(size, SymSize) else size


def is_integer_code(expr: sympy.Expr) -> bool:
    """True when ``expr`` is built only of sums, products, integers, symbols and
    :class:`FloorDiv` (printable as Python integer code)."""
    if expr.is_Symbol or expr.is_Integer:
        return True
    if expr.is_Add or expr.is_Mul or isinstance(expr, FloorDiv):
        return all(is_integer_code(a) for a in expr.args)
    if expr.is_Pow:
        return expr.exp.is_Integer and expr.exp > 0 and is_integer_code(expr.base)
    return False
