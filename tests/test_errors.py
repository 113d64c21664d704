"""Every error class, raised with a message that names the op and the shapes."""

from __future__ import annotations

import numpy as np
import pytest

import symgrad as sg
from symgrad.errors import GradError, ShapeError, SymgradError, TraceError, UnsupportedOpError


def test_error_hierarchy():
    assert issubclass(ShapeError, SymgradError) and issubclass(ShapeError, ValueError)
    assert issubclass(GradError, RuntimeError) and issubclass(TraceError, TypeError)
    assert issubclass(UnsupportedOpError, NotImplementedError)


def test_broadcast_error_names_op_and_shapes():
    with pytest.raises(ShapeError, match=r"cannot broadcast \(2,\) with \(3,\) in add"):
        sg.tensor([1.0, 2.0]) + sg.tensor([1.0, 2.0, 3.0])
    with pytest.raises(ShapeError, match=r"\(2, 3\) with \(2,\) in mul"):
        sg.compile(lambda a, b: a * b)(np.ones((2, 3)), np.ones(2))


def test_reduction_over_missing_dim():
    with pytest.raises(ShapeError, match=r"sum: dim 2 is out of range .* shape \(2, 3\)"):
        sg.ones(2, 3).sum(dim=2)
    with pytest.raises(ShapeError, match=r"mean: dim -3"):
        sg.ones(2, 3).mean(dim=-3)


def test_backward_of_non_scalar_without_gradient():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(GradError, match=r"shape \(2,\) needs gradient="):
        (x * 2).backward()


def test_backward_gradient_of_wrong_shape():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(
        ShapeError, match=r"gradient has shape \(3,\) but the output has shape \(2,\)"
    ):
        (x * 2).backward(gradient=sg.ones(3))


def test_backward_without_requires_grad():
    with pytest.raises(GradError, match="does not require grad"):
        (sg.tensor([1.0]) * 2).backward()


def test_trace_error_on_item_of_traced_tensor():
    with pytest.raises(TraceError, match=r"item\(\)"):
        sg.compile(lambda x: x * x.sum().item())(np.ones(2))


def test_unsupported_dtype():
    with pytest.raises(UnsupportedOpError, match="complex128"):
        sg.tensor(np.ones(2, complex))
