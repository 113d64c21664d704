"""How formulas print: matrices with SymPy's matrix objects, slices as slices, shared work
named once, rank 3 with named functions."""

from __future__ import annotations

import numpy as np
import sympy
import torch

import symgrad as sg

RNG = np.random.default_rng(3)
X, W, B, Y = (RNG.standard_normal(s) for s in ((4, 3), (3, 2), (2,), (4, 2)))


def mse(x, w, b, y):
    return ((x @ w + b - y) ** 2).mean()


def test_linear_mse_prints_as_matrix_algebra():
    f = sg.formulas(mse, X, W, B, Y)
    text = str(f)
    # d/dw mean((xw + b - y)^2) = 2/(4*2) x.T (xw + b - y), by hand
    assert "∂mse/∂w = x.T*(x*w + b - y)/4" in text
    assert "matmul(" not in text and "transpose(" not in text
    assert r"x^{T}" in f.latex()
    x, w = sympy.MatrixSymbol("x", 4, 3), sympy.MatrixSymbol("w", 3, 2)
    assert isinstance(f["w"], sympy.MatMul) and sympy.Transpose(x) in f["w"].args
    assert any(isinstance(a, sympy.MatAdd) and x * w in a.args for a in f["w"].args)


def test_pretty_has_a_superscript_transpose():
    pretty = sg.formulas(mse, X, W, B, Y).pretty()
    lines = pretty.splitlines()
    assert any(line.strip().startswith("T") for line in lines), pretty


def test_an_all_ones_upstream_is_a_matrix_of_ones():
    f = sg.formulas(lambda x, w: x @ w, X, W)
    assert str(f).splitlines()[0] == "∂f/∂x = ones(4, 2)*w.T"


def test_rosenbrock_prints_slices_not_gather_or_scatter():
    f = sg.formulas(
        lambda x: (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum(), np.ones(5)
    )
    text = str(f)
    assert "gather" not in text and "scatter" not in text
    assert "x[1:]" in text and "x[:-1]" in text and "pad(" in text
    # at x = 1 (the minimum) the gradient is 0
    np.testing.assert_allclose(f.evaluate(np.ones(5))["x"], 0.0, atol=1e-12)


def test_shared_work_is_named_once():
    def norm(x, g):
        return (sg.nn.functional.layer_norm(x, (3,), g) ** 2).sum()

    text = str(sg.formulas(norm, X, np.ones(3)))
    head, where = text.split("\nwhere\n")
    names = [line.split(" = ")[0].strip() for line in where.splitlines() if " = " in line]
    assert names and len(set(names)) == len(names)
    assert all(any(n in line for line in head.splitlines()) or n in where for n in names)


def test_scalars_stay_scalar():
    f = sg.formulas(lambda a, b: 3 * a**3 - b**2)
    assert str(f) == "∂f/∂a = 9*a**2\n∂f/∂b = -2*b"
    assert isinstance(f["a"], sympy.Expr) and not f.definitions and not f.notes


def test_rank_three_prints_with_named_functions():
    q, k = RNG.standard_normal((2, 3, 4)), RNG.standard_normal((2, 5, 4))
    f = sg.formulas(lambda q, k: sg.tanh(q @ k.transpose(1, 2)).sum(), q, k)
    text = str(f)
    assert "q @ transpose(k, 1, 2)" in text and "tanh(" in text  # as written, no (...)
    assert "(1 - tanh(q @ transpose(k, 1, 2))**2) @ k" in text  # transpose of transpose: k
    assert "permute(" not in text
    assert f.latex() and f.pretty()
    tq, tk = torch.tensor(q, requires_grad=True), torch.tensor(k, requires_grad=True)
    torch.tanh(tq @ tk.transpose(1, 2)).sum().backward()
    values = f.evaluate(q, k)
    np.testing.assert_allclose(values["q"], tq.grad.numpy(), rtol=1e-9)
    np.testing.assert_allclose(values["k"], tk.grad.numpy(), rtol=1e-9)


def test_a_symbolic_negative_coefficient_keeps_its_sign():
    from symgrad.formulas.printing import to_latex, to_text

    s, m = sympy.Symbol("s", real=True), sympy.MatrixSymbol("m", 3, 1)
    coefficient = -sympy.Piecewise((0, sympy.Eq(s, 0)), (1 / s, True))
    text = to_text(sympy.MatMul(coefficient, m))
    assert text == "-where(s == 0, 0, 1/s)*m"
    assert "Abs" not in text and to_latex(sympy.MatMul(coefficient, m)).startswith("- ")
    positive = to_text(sympy.MatMul(sympy.Piecewise((1, s > 0), (2, True)), m))
    assert positive == "where(s > 0, 1, 2)*m"
