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


def test_select_keeps_the_chosen_formulas_and_the_intermediates_they_use():
    f = sg.formulas(lambda x, y: sg.exp(x * y - sg.sin(x)) + sg.tanh(y) ** 3)
    assert "t1" in str(f)  # exp(...) is shared by both formulas
    only_y = f.select("y")
    assert list(only_y) == ["y"] and only_y["y"] == f["y"]
    kept = [str(sym) for sym, _ in only_y.definitions]
    used = {str(s) for s in only_y["y"].free_symbols}
    assert set(kept) <= used | {"t1"} and all(name in str(only_y) for name in kept)
    assert list(f.select("y", "x")) == ["y", "x"]
    g = sg.formulas(lambda a, b: sg.exp(a) * b)
    assert g.select("b").definitions == [] and str(g.select("b")) == "∂f/∂b = exp(a)"


def test_select_rejects_an_unknown_name_and_verify_follows_the_selection():
    import pytest

    f = sg.formulas(lambda a, b: a**2 * b, np.array([1.5, 2.0]), np.array([0.5, 3.0]))
    with pytest.raises(KeyError, match="'c'"):
        f.select("c")
    chosen = f.select("b")
    from symgrad.formulas.verify import verify_formulas

    verify_formulas(chosen, [np.array([1.5, 2.0]), np.array([0.5, 3.0])])  # no GradError
    got = chosen.evaluate(np.array([1.5, 2.0]), np.array([0.5, 3.0]))
    np.testing.assert_allclose(got["b"], [2.25, 4.0])


DATA = sg.tensor([[1.0, 2.0], [3.0, -1.0], [0.5, 0.0]])


def test_tensors_read_from_the_functions_scope_print_under_their_names():
    targets = sg.tensor([1.0, 0.0, 2.0])

    def loss(w):
        return ((DATA @ w - targets) ** 2).sum()

    text = str(sg.formulas(loss, np.array([0.5, -0.5])))
    assert "DATA.T" in text and "targets" in text and "cap" not in text


def test_a_closure_tensor_without_gradient_prints_under_its_name():
    scale = sg.tensor([2.0, 3.0])
    f = sg.formulas(lambda w: (scale * w**2).sum(), np.ones(2))
    assert str(f) == "∂f/∂w = 2*(scale⊙w)"
    np.testing.assert_allclose(f.evaluate(np.array([1.0, -1.0]))["w"], [4.0, -6.0])
