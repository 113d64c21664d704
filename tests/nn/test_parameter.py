"""Parameter: shares its data, is a leaf, prints like torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import symgrad as sg
from symgrad.errors import GradError


def test_shares_the_array_of_a_tensor():
    t = sg.randn(3)
    p = sg.nn.Parameter(t)
    assert p.numpy() is t.numpy()
    assert isinstance(p, sg.Tensor) and isinstance(p, sg.nn.Parameter)
    assert p.requires_grad and p.is_leaf and p.grad is None


def test_parameter_of_a_recorded_result_is_a_leaf():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    p = sg.nn.Parameter(x * 3)
    assert p.is_leaf and p.requires_grad
    (p * p).sum().backward()
    assert p.grad.numpy().tolist() == [6.0, 12.0]
    assert x.grad is None


def test_requires_grad_false_and_integer_data():
    p = sg.nn.Parameter(sg.tensor([1, 2]), requires_grad=False)
    assert not p.requires_grad and p.dtype == np.int64
    with pytest.raises(GradError, match="float32/float64"):
        sg.nn.Parameter(sg.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="floating point"):
        torch.nn.Parameter(torch.tensor([1, 2]))  # the same rule in torch


def test_repr_matches_torch():
    ours = sg.nn.Parameter(sg.tensor([1.0, 2.0]))
    theirs = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    assert (
        repr(ours) == repr(theirs) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    )
    assert repr(sg.nn.Parameter(sg.tensor([1.0]), requires_grad=False)) == (
        "Parameter containing:\ntensor([1.])"
    )


def test_from_numpy_and_empty():
    a = np.zeros((2, 2), np.float32)
    p = sg.nn.Parameter(a)
    assert p.numpy() is a and p.dtype == np.float32
    assert sg.nn.Parameter().shape == (0,)


def test_ops_give_plain_tensors_and_data_shares():
    p = sg.nn.Parameter(sg.ones(2))
    assert type(p * 2) is sg.Tensor
    d = p.data
    assert type(d) is sg.Tensor and not d.requires_grad and d.numpy() is p.numpy()
    p.data = sg.zeros(3)
    assert p.shape == (3,) and p.is_leaf and p.requires_grad
