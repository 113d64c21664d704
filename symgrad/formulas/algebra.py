"""Elementwise work as matrix algebra: ``2*(_0 + _1 - _2)`` over matrices becomes
``2*(x*w + b - y)`` built from SymPy's ``MatAdd``, ``MatMul`` (a scalar times a
matrix), ``HadamardProduct`` and ``HadamardPower``; what has no matrix form
(``tanh``, a ``Piecewise``, a quotient of matrices) stays a scalar expression
applied entry by entry (:class:`~symgrad.formulas.terms.Elementwise`).

Example:
    >>> import sympy
    >>> from symgrad.ir import arg
    >>> from symgrad.formulas.terms import leaf
    >>> x, y = leaf("x", (2, 3)), leaf("y", (2, 3))
    >>> from symgrad.formulas.printing import to_text
    >>> to_text(elementwise_term(2 * arg(0) * arg(1), [x, y], [(2, 3), (2, 3)], (2, 3)))
    '2*(x⊙y)'

"""

from __future__ import annotations

from collections.abc import Sequence

import sympy
from sympy.logic.boolalg import Boolean
from sympy.matrices.expressions.matexpr import MatrixExpr

from symgrad.formulas.terms import (
    Elementwise,
    Op,
    Shape,
    Slot,
    TensorSymbol,
    broadcast,
    has_tensors,
    is_boolean,
    is_matrix_rank,
    scalar_source,
    size,
)
from symgrad.ir import arg


def iverson(condition: Boolean) -> sympy.Expr:
    """1 where ``condition`` holds, else 0 (printed ``[condition]``)."""
    return sympy.Piecewise((1, condition), (0, True))


def scale(c: sympy.Expr, m: MatrixExpr) -> MatrixExpr:
    """``c * m`` with one coefficient in front (not spread over a sum)."""
    if c == 1:
        return m
    if isinstance(m, sympy.MatMul):
        inner, rest = m.as_coeff_mmul()
        c, m = c * inner, rest
        if c == 1:
            return m
        if isinstance(m, sympy.MatMul):
            return sympy.MatMul(c, *m.args)
    return sympy.MatMul(c, m)


def factors(m: MatrixExpr) -> tuple[sympy.Expr, list[MatrixExpr]]:
    """A matrix product as its scalar coefficient and its matrix factors."""
    if isinstance(m, sympy.MatMul):
        c, rest = m.as_coeff_mmul()
        return c, list(rest.args) if isinstance(rest, sympy.MatMul) else [rest]
    return sympy.Integer(1), [m]


def matrix_product(a: MatrixExpr, b: MatrixExpr) -> MatrixExpr:
    """``a*b`` with the coefficients of both in front, nothing distributed."""
    ca, fa = factors(a)
    cb, fb = factors(b)
    return scale(ca * cb, sympy.MatMul(*fa, *fb))


def operand_value(term: sympy.Basic, shape: Shape) -> sympy.Basic:
    """How an operand stands in a scalar expression: itself, its scalar, or a Slot."""
    source = scalar_source(term)
    if source is not None:
        return source
    if isinstance(term, MatrixExpr):
        return Slot(term, shape)
    return term


def substitute(
    template: sympy.Basic, operands: Sequence[sympy.Basic], shapes: Sequence[Shape]
) -> sympy.Basic:
    """The node's template over its operands' terms (a scalar-like expression).

    A boolean operand ``B`` is used as a condition where the template tests it
    (``Ne(_i, 0)`` becomes ``B``) and as ``[B]`` (1 or 0) elsewhere.
    """
    mapping = {}
    for i, (term, shape) in enumerate(zip(operands, shapes, strict=True)):
        if is_boolean(term):
            template = template.xreplace(
                {sympy.Ne(arg(i), 0): term, sympy.Eq(arg(i), 0): sympy.Not(term)}
            )
            mapping[arg(i)] = iverson(term)
        else:
            mapping[arg(i)] = operand_value(term, shape)
    return template.xreplace(mapping)


def prune_conditions(expr: sympy.Basic) -> sympy.Basic:
    """Inside each branch of a ``Piecewise``, its own condition is true and the earlier
    ones false: ``Piecewise((0, c), (Piecewise((1, c), (1/s, True)), True))`` is
    ``Piecewise((0, c), (1/s, True))``."""
    if not expr.args or isinstance(expr, Slot | Op | TensorSymbol):
        return expr
    if not isinstance(expr, sympy.Piecewise):
        return expr.func(*(prune_conditions(a) for a in expr.args))
    pieces, earlier = [], []
    for value, condition in expr.args:
        known = {c: sympy.false for c in earlier}
        if condition != sympy.true:
            known[condition] = sympy.true
        pieces.append((prune_conditions(value.xreplace(known)), condition))
        earlier.append(condition)
    return sympy.Piecewise(*pieces)


def factor(expr: sympy.Expr) -> sympy.Expr:
    """Common numeric factors taken out (``(x - y)/4``, not ``x/4 - y/4``); the values
    inside slots and ops are left alone."""
    hidden: dict[sympy.Basic, sympy.Dummy] = {}

    def hide(e: sympy.Basic) -> sympy.Basic:
        if isinstance(e, Slot | Op | TensorSymbol):
            return hidden.setdefault(e, sympy.Dummy(real=True))
        if not e.args:
            return e
        return e.func(*(hide(a) for a in e.args))

    factored = sympy.factor_terms(hide(expr))
    shown = {d: e for e, d in hidden.items()}

    def show(e: sympy.Basic) -> sympy.Basic:
        if e in shown:
            return shown[e]
        if not e.args:
            return e
        args = [show(a) for a in e.args]
        if e.is_Mul:  # (x - y)/4 stays a product: evaluating it would spread the 1/4
            return sympy.Mul(*args, evaluate=False)
        return e.func(*args)

    return show(factored) if hidden else factored


def _names_in_order(factors: list[MatrixExpr]) -> list[MatrixExpr]:
    """A Hadamard product's factors with its named matrices in name order, where they
    stand: SymPy orders a product's Slots (all named "slot") by their payloads, and two
    named matrices came out in either order from one process to the next."""
    at = [k for k, m in enumerate(factors) if isinstance(m, sympy.MatrixSymbol)]
    named = sorted((factors[k] for k in at), key=lambda m: m.name)
    ordered = list(factors)
    for k, m in zip(at, named, strict=True):
        ordered[k] = m
    return ordered


def to_matrix(expr: sympy.Basic, shape: Shape) -> sympy.Basic:
    """A scalar-like expression over Slots as matrix algebra of IR shape ``shape``.

    Returns a scalar expression where ``expr`` holds no matrix.
    """
    if not has_tensors(expr):
        return expr
    if isinstance(expr, Slot):
        return broadcast(expr.term, expr.ir_shape, shape)
    if expr.is_Add:
        parts = [to_matrix(a, shape) for a in expr.args]
        scalars = [p for p in parts if not isinstance(p, MatrixExpr)]
        matrices = [p for p in parts if isinstance(p, MatrixExpr)]
        if scalars:
            matrices.append(broadcast(sympy.Add(*scalars), (), shape))
        if len(matrices) == 1:
            return matrices[0]
        # Textbook order: added terms before subtracted ones, larger terms first.
        matrices.sort(key=lambda m: (m.could_extract_minus_sign(), -size(m)))
        return sympy.MatAdd(*matrices)
    if expr.is_Mul:
        parts = [to_matrix(a, shape) for a in expr.args]
        coefficient = sympy.Mul(*(p for p in parts if not isinstance(p, MatrixExpr)))
        matrices = _names_in_order([p for p in parts if isinstance(p, MatrixExpr)])
        product = matrices[0] if len(matrices) == 1 else sympy.HadamardProduct(*matrices)
        return scale(coefficient, product)
    if expr.is_Pow and expr.exp.is_Integer and expr.exp != 0:
        base = to_matrix(expr.base, shape)
        if isinstance(base, MatrixExpr):
            return sympy.HadamardPower(base, expr.exp)
    return Elementwise(expr, shape)


def elementwise_term(
    template: sympy.Basic,
    operands: Sequence[sympy.Basic],
    shapes: Sequence[Shape],
    shape: Shape,
) -> sympy.Basic:
    """The term of an elementwise node: scalar, matrix algebra, or tensor expression."""
    expr = prune_conditions(substitute(template, operands, shapes))
    if is_boolean(expr):
        return expr
    expr = factor(expr)
    if shape and not has_tensors(expr):
        return broadcast(expr, (), shape)
    if not is_matrix_rank(shape):
        return expr
    if isinstance(expr, Slot) and tuple(expr.ir_shape) == tuple(shape):
        return expr.term
    return to_matrix(expr, shape)
