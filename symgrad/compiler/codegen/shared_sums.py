"""Reuse a common sum where SymPy has multiplied it out: ``200*a - 200*b`` is ``200*c``.

SymPy distributes a number over a sum (``200*(a - b)`` becomes ``200*a - 200*b``), so the
gradient of ``(a - b)**2`` no longer shows the ``a - b`` that the forward pass computes,
and common-subexpression elimination cannot find it.  After CSE, every sum in a loop body
that holds a multiple of a temporary's sum (term by term) is rewritten to use the
temporary, and a sum that occurs twice or more up to a factor, which CSE left alone,
becomes a temporary of its own: fewer operations per element, and no less accurate.
Only for floating-point values (an integer sum must not gain a fractional factor).

Example:
    >>> a, b, c = sympy.symbols("a b c")
    >>> reuse_sums([(c, a - b)], [200 * a - 200 * b + 3, 2 * a])
    ([(c, a - b)], [200*c + 3, 2*a])
    >>> reuse_sums([], [a * (b - 1), 2 - 2 * b + a], iter([c]))
    ([(c, b - 1)], [a*c, a - 2*c])
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import sympy


def _factor_of(terms: dict, sum_terms: dict) -> sympy.Expr | None:
    """The number k with ``terms`` holding k times every term of ``sum_terms``, or None."""
    term, coeff = next(iter(sum_terms.items()))
    if term not in terms:
        return None
    k = terms[term] / coeff
    if k == 0 or any(terms.get(t, 0) != k * c for t, c in sum_terms.items()):
        return None
    return k


def _rewrite(expr: sympy.Expr, sums: Sequence[tuple[sympy.Symbol, dict]]) -> sympy.Expr:
    """``expr`` with each sum that holds a multiple of one of ``sums`` using its symbol."""

    def use_sum(add: sympy.Expr) -> sympy.Expr:
        terms = dict(add.as_coefficients_dict())
        best = None
        for symbol, sum_terms in sums:
            k = _factor_of(terms, sum_terms)
            if k is not None and (best is None or len(sum_terms) > len(best[1])):
                best = (symbol, sum_terms, k)
        if best is None:
            return add
        symbol, sum_terms, k = best
        rest = [c * t for t, c in terms.items() if t not in sum_terms]
        return _rewrite(sympy.Add(k * symbol, *rest), sums)

    return expr.replace(lambda e: e.is_Add, use_sum)


#: Loop bodies with more sums than this are left as CSE wrote them (the search is quadratic).
MAX_SUMS = 300


def _repeated_sums(
    exprs: Sequence[sympy.Expr], known: Sequence[tuple[sympy.Symbol, dict]]
) -> list[tuple[sympy.Expr, dict]]:
    """Sums in ``exprs`` held twice or more up to a factor (whole, or within larger sums),
    that are no multiple of a ``known`` sum: each as it first occurs, with its terms."""
    adds = [
        (sub, dict(sub.as_coefficients_dict()))
        for expr in exprs
        for sub in sympy.preorder_traversal(expr)
        if sub.is_Add
    ]
    if len(adds) > MAX_SUMS:
        return []
    chosen: list[tuple[sympy.Expr, dict]] = []
    taken = [terms for _, terms in known]
    for sub, terms in adds:
        if any(len(t) == len(terms) and _factor_of(terms, t) is not None for t in taken):
            continue
        if sum(_factor_of(other, terms) is not None for _, other in adds) > 1:
            chosen.append((sub, terms))
            taken.append(terms)
    return chosen


def reuse_sums(
    replacements: list[tuple[sympy.Symbol, sympy.Expr]],
    reduced: list[sympy.Expr],
    fresh: Iterator[sympy.Symbol] | None = None,
) -> tuple[list[tuple[sympy.Symbol, sympy.Expr]], list[sympy.Expr]]:
    """``sympy.cse``'s output with multiples of its temporaries' sums written with them (a
    temporary's own definition may use only the temporaries before it).  With ``fresh``
    names, a sum that the reduced expressions hold twice or more up to a factor becomes a
    temporary of its own first."""
    sums: list[tuple[sympy.Symbol, dict]] = []
    rewritten = []
    for symbol, value in replacements:
        value = _rewrite(value, sums) if sums else value
        rewritten.append((symbol, value))
        if value.is_Add:
            sums.append((symbol, dict(value.as_coefficients_dict())))
    if sums:
        reduced = [_rewrite(expr, sums) for expr in reduced]
    if fresh is None:
        return rewritten, reduced
    repeated = _repeated_sums(reduced, sums)
    if not repeated:
        return rewritten, reduced
    hoisted = [(next(fresh), value, terms) for value, terms in repeated]
    rewritten += [(symbol, value) for symbol, value, _ in hoisted]
    sums = [(symbol, terms) for symbol, _, terms in hoisted]
    return rewritten, [_rewrite(expr, sums) for expr in reduced]
