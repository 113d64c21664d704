"""``verify=True`` catches a wrong formula; bad input gets clear symgrad errors."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

import symgrad as sg
from symgrad.formulas.verify import finite_differences, kernel_gradients, verify_formulas


def test_a_tampered_formula_fails_verification():
    x = np.array([0.3, -1.2, 2.0])
    f = sg.formulas(lambda x: (sg.sin(x) * x).sum(), x)
    verify_formulas(f, [x])  # the true formula passes
    f._derivatives["x"] = f["x"] + sympy.MatrixSymbol("x", 3, 1) * sympy.Rational(1, 10**6)
    with pytest.raises(sg.errors.GradError, match="differs from the gradient kernel"):
        verify_formulas(f, [x])


def test_kernels_and_finite_differences_agree_with_the_hand_derivative():
    x = np.array([0.3, -1.2, 2.0])
    f = sg.formulas(lambda x: (sg.sin(x) * x).sum(), x)
    expected = np.sin(x) + x * np.cos(x)  # by hand
    np.testing.assert_allclose(kernel_gradients(f, [x])["x"], expected, rtol=1e-12)
    flat, values = finite_differences(f, [x])["x"]
    np.testing.assert_allclose(values, expected[flat], rtol=1e-7)
    np.testing.assert_allclose(f.evaluate(x)["x"], expected, rtol=1e-12)


def test_verify_without_example_arguments_uses_scalars():
    f = sg.formulas(lambda a, b: a * sg.exp(b), verify=True)
    assert f.evaluate(2.0, 0.0) == {"a": 1.0, "b": 2.0}


def test_bad_input_gets_symgrad_errors():
    f = sg.formulas(lambda x, w: (x @ w).sum(), np.ones((2, 3)), np.ones((3, 1)))
    with pytest.raises(sg.errors.ShapeError, match="take 2 arguments"):
        f.evaluate(np.ones((2, 3)))
    with pytest.raises(sg.errors.ShapeError, match=r"derived for shape \(3, 1\)"):
        f.evaluate(np.ones((2, 3)), np.ones((4, 1)))
    with pytest.raises(sg.errors.GradError, match="needs a function"):
        sg.formulas(3.0)
    with pytest.raises(sg.errors.GradError, match="float result"):
        sg.formulas(lambda x: x > 0, np.ones(2))
