"""Sums that SymPy multiplied out are written with the temporary CSE made of them: the same
values, fewer operations, and the gradients of squared differences still right."""

from __future__ import annotations

import re

import numpy as np
import sympy
import torch

import symgrad as sg
from symgrad.compiler.codegen.shared_sums import reuse_sums

A, B, C, D = sympy.symbols("a b c d", real=True)


def _cse(exprs):
    return sympy.cse(exprs, symbols=sympy.numbered_symbols("c"), order="none")


def _expand(replacements, reduced):
    """The reduced expressions with every temporary put back (last defined first)."""
    values = []
    for expr in reduced:
        for symbol, value in reversed(replacements):
            expr = expr.xreplace({symbol: value})
        values.append(sympy.expand(expr))
    return values


def test_a_multiple_of_a_temporary_uses_it():
    c0 = sympy.Symbol("c0")
    replacements = [(c0, A - B**2)]
    _, rewritten = reuse_sums(replacements, [c0**2, 200 * A - 200 * B**2 + C])
    assert rewritten == [c0**2, 200 * c0 + C]
    _, rewritten = reuse_sums([(c0, 2 * A + 4 * B)], [6 * A + 12 * B + C, -A - 2 * B])
    assert rewritten == [3 * c0 + C, -c0 / 2]


def test_a_sum_held_twice_up_to_a_factor_becomes_a_temporary():
    replacements, reduced = _cse([(A - B**2) ** 2, 200 * A - 200 * B**2 + C])
    assert not any(value == A - B**2 for _, value in replacements)  # CSE misses it
    fresh = sympy.numbered_symbols("h")
    rewritten, reduced = reuse_sums(replacements, reduced, fresh)
    temp = next(s for s, v in rewritten if s.name.startswith("h"))
    assert reduced[1] == 200 * temp + C and reduced[0] == temp**2
    assert sum(sympy.count_ops(e) for e in reduced) < 8


def test_a_sum_that_is_no_multiple_is_left_alone():
    replacements, reduced = _cse([(A - B) ** 2, 200 * A - 100 * B, A + B])
    fresh = sympy.numbered_symbols("h")
    assert reuse_sums(replacements, reduced, fresh) == (replacements, reduced)


def test_rewritten_expressions_keep_their_values():
    rng = np.random.default_rng(0)
    atoms = [A, B, C, D, A * B, sympy.sin(C)]
    for _ in range(200):
        picks = rng.choice(len(atoms), size=3, replace=False)
        base = sum(int(rng.integers(-3, 4) or 1) * atoms[k] for k in picks)
        k = int(rng.integers(-5, 6) or 2)
        exprs = [base**2, sympy.expand(k * base) + atoms[int(rng.integers(len(atoms)))]]
        exprs.append(sympy.exp(sympy.expand(-k * base) + D) * base)
        replacements, reduced = _cse(exprs)
        for fresh in (None, sympy.numbered_symbols("h")):
            rewritten = reuse_sums(replacements, reduced, fresh)
            assert _expand(*rewritten) == _expand(replacements, reduced)


def test_temporaries_may_use_earlier_ones():
    c0, c1 = sympy.symbols("c0 c1")
    replacements = [(c0, A - B), (c1, 3 * A - 3 * B + D)]
    rewritten, reduced = reuse_sums(replacements, [2 * A - 2 * B + 2 * D / 3])
    assert rewritten[1] == (c1, 3 * c0 + D)
    assert reduced == [2 * c1 / 3]


def test_the_gradient_of_a_squared_difference_reuses_the_difference():
    def loss(x, y):
        return (100 * (y - x**2) ** 2).sum()

    rng = np.random.default_rng(1)
    x, y = rng.standard_normal(7), rng.standard_normal(7)
    grads = sg.grad(loss, argnums=(0, 1))
    source = grads.source(x, y)
    scaled = re.search(r"= 200\.0\*(c\d+)$", source, re.MULTILINE)
    assert scaled, source  # 200*y - 200*x**2 as 200 times the difference
    assert f"-400.0*{scaled[1]}*e_x" in source  # the same difference in the other gradient
    gx, gy = grads(x, y)
    tx = torch.tensor(x, requires_grad=True)
    ty = torch.tensor(y, requires_grad=True)
    loss(tx, ty).backward()
    np.testing.assert_allclose(gx.numpy(), tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(gy.numpy(), ty.grad.numpy(), rtol=1e-12)


def test_float32_and_integer_kernels_keep_their_values():
    a32 = np.linspace(-2, 2, 9, dtype=np.float32)
    f = sg.compile(lambda a, b: (a - b) ** 2 + 6 * a - 6 * b)
    np.testing.assert_allclose(
        f(a32, a32[::-1].copy()).numpy(),
        (a32 - a32[::-1]) ** 2 + 6 * a32 - 6 * a32[::-1],
        rtol=1e-6,
    )
    ai, bi = np.arange(9), np.arange(9)[::-1].copy()
    out = f(ai, bi).numpy()
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, (ai - bi) ** 2 + 6 * ai - 6 * bi)
