"""In-place ops on recorded tensors give PyTorch's gradients, or PyTorch's error.

An in-place op on a recorded tensor rebinds it to its new value in the graph; a value
the gradient needs that was changed in place since makes ``backward()`` raise, as
PyTorch's "modified by an inplace operation" does.  Each case runs in both libraries.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import symgrad as sg
from symgrad.errors import GradError


def _micrograd_more_ops(m, in_place: bool):
    """micrograd's ``test_more_ops``, with its ``+=`` (in_place) or written out."""
    a = m.tensor(-4.0, dtype=m.float64, requires_grad=True)
    b = m.tensor(2.0, dtype=m.float64, requires_grad=True)
    c = a + b
    d = a * b + b**3
    if in_place:
        c += c + 1
        c += 1 + c + (-a)
        d += d * 2 + (b + a).relu()
        d += 3 * d + (b - a).relu()
    else:
        c = c + c + 1
        c = c + 1 + c + (-a)
        d = d + d * 2 + (b + a).relu()
        d = d + 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g = g + 10.0 / f
    g.backward()
    return g.item(), a.grad.item(), b.grad.item()


@pytest.mark.parametrize("in_place", [True, False])
def test_micrograd_more_ops_matches_torch(in_place):
    ours = _micrograd_more_ops(sg, in_place)
    theirs = _micrograd_more_ops(torch, in_place)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    np.testing.assert_allclose(ours[1:], [138.83381924198252, 645.5772594752186], rtol=1e-12)


def test_in_place_add_on_a_recorded_tensor_rebinds_it():
    a = sg.tensor(3.0, requires_grad=True)
    c = 2 * a
    c += a * a
    c.backward()
    assert a.grad.item() == 8.0


def test_copy_of_a_value_that_requires_grad_into_a_plain_tensor_keeps_the_graph():
    for m in (sg, torch):
        x = m.tensor([1.0, 2.0], dtype=m.float64, requires_grad=True)
        y = m.zeros(2, dtype=m.float64)
        y.copy_(x * 3)
        assert y.requires_grad
        y.sum().backward()
        np.testing.assert_array_equal(np.asarray(x.grad), [3.0, 3.0])


def _exp_then_add(m, a):
    y = a.exp()
    y.add_(1)
    return y.sum()


def _mul_leaf_without_grad(m, a):
    y = (a * a).sum()
    with m.no_grad():
        a.mul_(2)
    return y


def _tanh_then_add(m, a):
    h = a.tanh()
    y = (h * h).sum()
    h.add_(1)
    return y


def _slice_view_changed(m, a):
    h = a.exp()
    y = (h * h).sum()
    h[0:1].mul_(3)  # through a view: the base's saved value changed
    return y


@pytest.mark.parametrize(
    "case", [_exp_then_add, _mul_leaf_without_grad, _tanh_then_add, _slice_view_changed]
)
def test_a_changed_saved_value_raises_as_in_torch(case):
    t = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        case(torch, t).backward()
    a = sg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(GradError, match="modified by an in-place operation"):
        case(sg, a).backward()


def test_changed_value_that_the_gradient_does_not_read_is_fine():
    for m in (sg, torch):
        a = m.tensor([1.0, 2.0], dtype=m.float64, requires_grad=True)
        h = a * 3  # the gradient of h + 1 with respect to h does not read h
        y = (h + 1).sum()
        with m.no_grad():
            h.add_(5)
        y.backward()
        np.testing.assert_array_equal(np.asarray(a.grad), [3.0, 3.0])


def test_in_place_ops_inside_compile_give_the_eager_numbers():
    def f(x):
        c = 2 * x
        c += x * x
        c *= 3
        return c.sum()

    x = np.array([1.5, -2.0])
    np.testing.assert_allclose(sg.grad(f)(x).numpy(), 3 * (2 + 2 * x), rtol=1e-14)


def test_division_by_a_zero_constant_is_ieee_as_in_torch():
    values = [1.0, -2.0, 0.0]
    ours = sg.tensor(values, requires_grad=True)
    theirs = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    (ours / 0.0).backward(gradient=sg.ones(3))
    (theirs / 0.0).backward(torch.ones(3, dtype=torch.float64))
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())
    for tier in ("sync", "interpret"):
        f = sg.compile(lambda a: a / 0.0, tier=tier)
        np.testing.assert_array_equal(f(np.array(values)).numpy(), [np.inf, -np.inf, np.nan])
        g = sg.grad(lambda a: (a / 0.0).sum(), tier=tier)
        np.testing.assert_array_equal(g(np.array(values)).numpy(), theirs.grad.numpy())


def test_a_changed_leaf_that_the_gradient_does_not_read_is_fine():
    for m in (sg, torch):
        a = m.tensor([1.0, 2.0], dtype=m.float64, requires_grad=True)
        y = (a * 3 + 1).sum()
        with m.no_grad():
            a.add_(5)
        y.backward()
        np.testing.assert_array_equal(np.asarray(a.grad), [3.0, 3.0])
