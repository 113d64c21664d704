"""Formulas for every case of the op table: they never fail, print in every form, and
their values (computed from the SymPy expressions) are PyTorch's gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from support.gradcheck import torch_grads
from support.op_cases import CASES

import symgrad as sg

PARAMS = [
    pytest.param(case, shapes, id=f"{case.name}-{'-'.join(map(str, shapes))}")
    for case in CASES
    for shapes in case.shapes
]


@pytest.mark.parametrize(("case", "shapes"), PARAMS)
def test_formulas_of_every_op_print_and_evaluate_to_torch_gradients(case, shapes):
    arrays = case.inputs(shapes, np.float64)
    f = sg.formulas(lambda *xs: case.fn(sg, *xs), *arrays)

    text = str(f)
    assert text.count("∂f/∂") == len(arrays)
    assert "gather" not in text and "scatter" not in text and "matmul(" not in text
    assert f.latex().startswith(r"\begin{aligned}")
    assert f.pretty()

    value = np.asarray(case.ref(*arrays))
    _, expected = torch_grads(case.fn, arrays, np.ones(value.shape))
    ours = f.evaluate(*arrays)
    assert list(ours) == list(f)
    for got, want in zip(ours.values(), expected, strict=True):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_the_walk_covers_the_whole_table():
    assert len(PARAMS) == sum(len(c.shapes) for c in CASES) > 100
    assert torch.get_default_dtype() == torch.float64
