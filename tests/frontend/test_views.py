"""In-place ops through views change the base, as in PyTorch: eagerly (values and
gradients) and inside ``@sg.compile`` (where tensors have no arrays to share)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import symgrad as sg
from symgrad.errors import GradError

A = np.arange(12.0).reshape(3, 4) / 7 - 0.5

# Each edit takes (library, b) and changes b through a view of it, in place.
EDITS = {
    "row add_": lambda lib, b: b[0].add_(1.5),
    "slice mul_": lambda lib, b: b[1:].mul_(3),
    "strided column": lambda lib, b: b[:, ::2].mul_(-2),
    "view of a view": lambda lib, b: b.T[1].mul_(4),
    "transpose then slice": lambda lib, b: b.transpose(0, 1)[2:].add_(b.transpose(0, 1)[:2]),
    "unsqueeze": lambda lib, b: b[2].unsqueeze(0).mul_(0.5),
    "setitem on a view": lambda lib, b: b[1].__setitem__(slice(1, 3), 9.0),
    "augmented item": lambda lib, b: b.__setitem__(0, b[0].__imul__(2)),
    "zero_ of a row": lambda lib, b: b[2].zero_(),
}


def _result(lib, a, edit):
    b = a * 1
    edit(lib, b)
    return (b * b).sum() + b[0, 0]


@pytest.mark.parametrize("name", list(EDITS))
def test_eager_values_and_gradients_match_torch(name):
    edit = EDITS[name]
    ta = torch.tensor(A, requires_grad=True)
    expected = _result(torch, ta, edit)
    expected.backward()
    a = sg.tensor(A, requires_grad=True)
    got = _result(sg, a, edit)
    got.backward()
    np.testing.assert_allclose(got.item(), expected.item(), rtol=1e-12)
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("tier", ["interpret", "sync"])
@pytest.mark.parametrize("name", list(EDITS))
def test_compiled_values_and_gradients_match_torch(name, tier):
    edit = EDITS[name]

    def edited(lib, a):
        b = a * 1
        edit(lib, b)
        return b

    expected = edited(torch, torch.tensor(A)).numpy()
    got = sg.compile(lambda a: edited(sg, a), tier=tier)(sg.tensor(A))
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)
    ta = torch.tensor(A, requires_grad=True)
    _result(torch, ta, edit).backward()
    grad = sg.grad(lambda a: _result(sg, a, edit), tier=tier)(sg.tensor(A))
    np.testing.assert_allclose(grad.numpy(), ta.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_a_captured_buffer_changed_through_a_view_is_written_back():
    buffer = sg.zeros(2, 3)

    @sg.compile(tier="sync")
    def accumulate(x):
        buffer[1].add_(x)
        return x.sum()

    accumulate(sg.tensor([1.0, 2.0, 3.0]))
    accumulate(sg.tensor([1.0, 1.0, 1.0]))
    np.testing.assert_array_equal(buffer.numpy(), [[0, 0, 0], [2, 3, 4]])


def test_a_view_of_a_leaf_that_requires_grad_cannot_change_in_place():
    a = sg.tensor(A, requires_grad=True)
    with pytest.raises(GradError, match="in place"):
        a[0].add_(1)
    with sg.no_grad():  # as an optimizer does
        a[0].add_(1)
    np.testing.assert_allclose(a.numpy()[0], A[0] + 1)


def test_a_copy_is_not_a_view():
    a = sg.tensor(A) * 1
    c = a[0].clone()
    c.add_(1)
    gathered = a[sg.tensor([0, 2])]  # an index tensor gathers: a copy, as in PyTorch
    gathered.mul_(0)
    np.testing.assert_allclose(a.numpy(), A)


# Each takes (library, b), makes a view of b, changes b (directly or through another
# view) and returns the view made before the change: it must show the change.
STALE_VIEWS = {
    "row, then a column write": lambda lib, b: (b[0], b[:, 1].mul_(3))[0],
    "transpose, then the base": lambda lib, b: (b.T, b.add_(1))[0],
    "view of a view, then a row": lambda lib, b: (b[1:][0], b[1].mul_(-2))[0],
    "columns, then setitem on the base": lambda lib, b: (b[:, :2], b.__setitem__(0, 5.0))[0],
    "unsqueezed row, then a transpose write": lambda lib, b: (
        b[2].unsqueeze(1),
        b.T[3].add_(b.T[0]),
    )[0],
}


def _stale_result(lib, a, edit):
    b = a * 1
    view = edit(lib, b)
    return (view * view).sum() + (b * b).sum(), view


@pytest.mark.parametrize("name", list(STALE_VIEWS))
def test_a_view_made_before_a_change_shows_it_eagerly(name):
    edit = STALE_VIEWS[name]
    ta = torch.tensor(A, requires_grad=True)
    expected, expected_view = _stale_result(torch, ta, edit)
    expected.backward()
    a = sg.tensor(A, requires_grad=True)
    got, view = _stale_result(sg, a, edit)
    got.backward()
    np.testing.assert_allclose(view.detach().numpy(), expected_view.detach().numpy())
    np.testing.assert_allclose(got.item(), expected.item(), rtol=1e-12)
    np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("tier", ["interpret", "sync"])
@pytest.mark.parametrize("name", list(STALE_VIEWS))
def test_a_view_made_before_a_change_shows_it_compiled(name, tier):
    edit = STALE_VIEWS[name]
    expected = _stale_result(torch, torch.tensor(A), edit)[1].numpy()
    got = sg.compile(lambda a: _stale_result(sg, a, edit)[1], tier=tier)(sg.tensor(A))
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)
    ta = torch.tensor(A, requires_grad=True)
    _stale_result(torch, ta, edit)[0].backward()
    grad = sg.grad(lambda a: _stale_result(sg, a, edit)[0], tier=tier)(sg.tensor(A))
    np.testing.assert_allclose(grad.numpy(), ta.grad.numpy(), rtol=1e-12, atol=1e-12)
