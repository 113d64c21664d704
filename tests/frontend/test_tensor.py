"""Tensor basics: the seed example, accumulation, creation, conversion, repr, kinks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import symgrad as sg


def test_seed_example_exact():
    a = sg.tensor([2.0, 3.0], requires_grad=True)
    b = sg.tensor([6.0, 4.0], requires_grad=True)
    Q = 3 * a**3 - b**2
    Q.backward(gradient=sg.tensor([1.0, 1.0]))
    assert a.grad.numpy().tolist() == [36.0, 81.0]
    assert b.grad.numpy().tolist() == [-12.0, -8.0]
    assert repr(a.grad) == "tensor([36., 81.])"


def test_gradients_accumulate_over_two_backward_calls():
    a = sg.tensor([2.0, 3.0], requires_grad=True)
    b = sg.tensor([6.0, 4.0], requires_grad=True)
    for _ in range(2):
        Q = 3 * a**3 - b**2
        Q.backward(gradient=sg.tensor([1.0, 1.0]))
    assert a.grad.numpy().tolist() == [72.0, 162.0]
    assert b.grad.numpy().tolist() == [-24.0, -16.0]


def test_repeated_structure_compiles_one_backward_kernel():
    from symgrad.runtime.eager_backward import plan_count

    w = sg.tensor(np.ones(3), requires_grad=True)
    (sg.tanh(w * 2.0) * 1.5).sum().backward()  # first step: .grad is written
    before = plan_count()
    for step in range(5):
        x = sg.tensor(np.random.default_rng(step).standard_normal(3))
        (sg.tanh(w * x) * 1.5).sum().backward()  # later steps: accumulated
    assert plan_count() - before == 1


def test_scalar_backward_without_gradient():
    x = sg.tensor([1.0, -2.0, 3.0], requires_grad=True)
    (x * x).mean().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.array([1.0, -2.0, 3.0]) / 3)


def test_leaf_backward_gives_upstream():
    x = sg.tensor([1.0, 2.0], requires_grad=True)
    x.backward(gradient=sg.tensor([3.0, 4.0]))
    assert x.grad.numpy().tolist() == [3.0, 4.0]


def test_creation_dtypes_and_shapes():
    assert sg.tensor([1.0, 2.0]).dtype == np.float64
    assert sg.tensor(np.zeros(2, np.float32)).dtype == np.float32
    assert sg.tensor([1, 2]).dtype == np.int64
    assert sg.tensor(3.5).shape == ()
    assert sg.zeros(2, 3).shape == (2, 3)
    assert sg.ones((4,)).numpy().tolist() == [1.0] * 4
    assert sg.arange(4).numpy().tolist() == [0, 1, 2, 3]
    assert sg.arange(1, 2, 0.5).numpy().tolist() == [1.0, 1.5]
    assert sg.zeros(2, dtype=sg.float32).dtype == np.float32
    t = sg.randn(2, 5)
    assert t.shape == (2, 5) and t.ndim == 2 and t.numel() == 10


def test_manual_seed_makes_random_reproducible():
    sg.manual_seed(7)
    first = sg.rand(3).numpy().copy()
    sg.manual_seed(7)
    assert np.array_equal(sg.rand(3).numpy(), first)


def test_conversions():
    t = sg.tensor([[1.0, 2.0]])
    assert np.asarray(t).shape == (1, 2)
    assert sg.tensor(2.5).item() == 2.5
    assert float(sg.tensor([4.0])) == 4.0
    assert t.detach().requires_grad is False
    assert repr(sg.tensor([1.0, 2.0], dtype=sg.float32)) == "tensor([1., 2.], dtype=float32)"
    assert repr(sg.tensor([2.0], requires_grad=True)) == "tensor([2.], requires_grad=True)"


def test_numpy_operands_on_either_side():
    x = sg.tensor([1.0, 2.0])
    assert isinstance(np.array([1.0, 1.0]) * x, sg.Tensor)
    assert (np.float64(2.0) * x).numpy().tolist() == [2.0, 4.0]
    assert (x + np.array([1.0, 1.0])).numpy().tolist() == [2.0, 3.0]


def test_comparisons_are_not_differentiable():
    x = sg.tensor([-1.0, 2.0], requires_grad=True)
    mask = x > 0
    assert mask.dtype == np.bool_ and not mask.requires_grad
    assert mask.numpy().tolist() == [False, True]


def test_no_grad_records_nothing():
    x = sg.tensor([1.0], requires_grad=True)
    with sg.no_grad():
        y = x * 2
    assert not y.requires_grad


def test_int_tensor_cannot_require_grad():
    with pytest.raises(sg.errors.GradError, match="int64"):
        sg.tensor([1, 2], requires_grad=True)


@pytest.mark.parametrize(
    "fn",
    [
        lambda m, x, y: m.relu(x),
        lambda m, x, y: m.abs(x),
        lambda m, x, y: m.maximum(x, y),
        lambda m, x, y: m.minimum(x, y),
        lambda m, x, y: m.where(x > 0, x, y),
    ],
    ids=["relu", "abs", "maximum", "minimum", "where"],
)
def test_kinks_follow_pytorch(fn):
    values = np.array([0.0, 1.0, -1.0, 0.0])
    others = np.array([0.0, 1.0, 2.0, -3.0])  # ties at 0 and 1
    xs = [sg.tensor(values, requires_grad=True), sg.tensor(others, requires_grad=True)]
    ts = [torch.tensor(values, requires_grad=True), torch.tensor(others, requires_grad=True)]
    fn(sg, *xs).sum().backward()
    fn(torch, *ts).sum().backward()
    for x, t in zip(xs, ts, strict=True):
        expected = t.grad.numpy() if t.grad is not None else np.zeros(4)
        got = x.grad.numpy() if x.grad is not None else np.zeros(4)
        np.testing.assert_array_equal(got, expected)


def test_data_shares_values_outside_the_graph_as_in_pytorch():
    for lib in (sg, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        d = x.data
        assert not d.requires_grad
        d[0] = 5.0  # writes through to x, unseen by autograd
        assert x.detach().numpy().tolist() == [5.0, 2.0]
        x.data = lib.tensor([7.0, 8.0, 9.0])  # another shape is allowed
        assert tuple(x.shape) == (3,) and x.requires_grad
        (x * x).sum().backward()
        assert x.grad.numpy().tolist() == [14.0, 16.0, 18.0]
