"""Formulas: text, LaTeX, mapping, checked against SymPy differentiating the written maths."""

from __future__ import annotations

import numpy as np
import sympy

import symgrad as sg


def _symbols(names):
    return sympy.symbols(names, real=True)


def test_seed_formulas_print_like_a_textbook():
    f = sg.formulas(lambda a, b: 3 * a**3 - b**2)
    assert str(f) == "∂f/∂a = 9*a**2\n∂f/∂b = -2*b"
    assert list(f) == ["a", "b"] and len(f) == 2


def test_named_function_and_latex():
    def energy(x, v):
        return 0.5 * v**2 + sg.cos(x)

    f = sg.formulas(energy)
    assert str(f).splitlines()[0] == "∂energy/∂x = -sin(x)"
    latex = f.latex()
    assert r"\frac{\partial energy}{\partial x}" in latex and r"\sin{\left(x \right)}" in latex
    assert f._repr_latex_().startswith("$$")


def test_formulas_agree_with_sympy_on_the_flattened_expression():
    x, w = _symbols("x w")
    f = sg.formulas(lambda x, w: sg.tanh(w * x + 1) * sg.exp(-x))
    expected = sympy.tanh(w * x + 1) * sympy.exp(-x)
    for name, sym in (("x", x), ("w", w)):
        assert sympy.simplify(f.inlined(name) - sympy.diff(expected, sym)) == 0


def test_formulas_of_tensor_function_are_per_element():
    f = sg.formulas(lambda a: (a**2).sum(), np.ones(3))
    a = sympy.MatrixSymbol("a", 3, 1)  # a vector is a column
    assert f["a"] == 2 * a and str(f) == "∂f/∂a = 2*a"


def test_sigmoid_formula_uses_itself():
    f = sg.formulas(lambda z: sg.sigmoid(z))
    assert "sigmoid(z)" in str(f) and "exp" not in str(f)
