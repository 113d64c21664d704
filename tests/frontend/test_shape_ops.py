"""Slicing with negative steps, advanced indexing, integer tensors and shape errors.

Gradients are checked against PyTorch (``torch.flip`` stands in for negative steps,
which torch does not support) and against central differences of a NumPy reference.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from support.gradcheck import central_differences

import symgrad as sg
from symgrad.errors import GradError, ShapeError

torch.set_default_dtype(torch.float64)

TOL = {"rtol": 1e-10, "atol": 1e-12}


def _randn(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _upstream(shape, seed=1):
    return np.random.default_rng(seed).uniform(0.5, 1.5, shape)


# --- negative-step slicing ------------------------------------------------------------------
# (index applied to symgrad and NumPy, the same selection written for torch with flip, shape)
NEGATIVE_STEPS = [
    pytest.param(np.s_[::-1], lambda t: t.flip(0), (5,), id="rev-1d"),
    pytest.param(np.s_[::-1], lambda t: t.flip(0), (3, 4), id="rev-rows"),
    pytest.param(np.s_[:, ::-1], lambda t: t.flip(1), (3, 4), id="rev-cols"),
    pytest.param(np.s_[1:, ::-2], lambda t: t[1:].flip(1)[:, ::2], (3, 4), id="1:-::-2-even"),
    pytest.param(np.s_[1:, ::-2], lambda t: t[1:].flip(1)[:, ::2], (3, 5), id="1:-::-2-odd"),
    # x[4:0:-2] on 6 elements picks 4, 2; flip maps index i to 5 - i: 1, 3
    pytest.param(np.s_[4:0:-2], lambda t: t.flip(0)[1:5:2], (6,), id="bounded"),
    pytest.param(np.s_[-2::-3], lambda t: t.flip(0)[1::3], (7, 2), id="negative-start"),
    pytest.param(np.s_[..., ::-1, 0], lambda t: t.flip(1)[..., 0], (2, 3, 2), id="ellipsis"),
]


@pytest.mark.parametrize(("key", "torch_fn", "shape"), NEGATIVE_STEPS)
def test_negative_step_slicing_value_and_gradient(key, torch_fn, shape):
    a = _randn(*shape)
    expected = a[key]
    upstream = _upstream(expected.shape)

    x = sg.tensor(a, requires_grad=True)
    out = x[key] * 3
    np.testing.assert_array_equal(out.numpy(), expected * 3)
    out.backward(gradient=sg.tensor(upstream))

    t = torch.tensor(a, requires_grad=True)
    t_out = torch_fn(t) * 3
    np.testing.assert_array_equal(t_out.detach().numpy(), expected * 3)  # the oracle itself
    t_out.backward(torch.tensor(upstream))
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), **TOL)

    (fd,) = central_differences(lambda v: float((v[key] * 3 * upstream).sum()), [a])
    np.testing.assert_allclose(x.grad.numpy(), fd, rtol=1e-6, atol=1e-7)

    w = sg.tensor(upstream)
    compiled = sg.value_and_grad(lambda v: (v[key] * 3 * w).sum())
    value, grad = compiled(a)
    np.testing.assert_allclose(value.item(), float((expected * 3 * upstream).sum()), rtol=1e-12)
    np.testing.assert_allclose(grad.numpy(), t.grad.numpy(), **TOL)


def test_negative_step_of_a_negative_step_is_the_identity():
    a = _randn(4, 3)
    x = sg.tensor(a, requires_grad=True)
    out = x[::-1][::-1, ::-1][:, ::-1]
    np.testing.assert_array_equal(out.numpy(), a)
    upstream = _upstream(a.shape)
    out.backward(gradient=sg.tensor(upstream))
    np.testing.assert_allclose(x.grad.numpy(), upstream, **TOL)


# --- advanced indexing ----------------------------------------------------------------------
def test_repeated_indices_accumulate_in_the_gradient():
    a = _randn(4, 3)
    upstream = _upstream((3, 3))
    x = sg.tensor(a, requires_grad=True)
    out = x[sg.tensor([0, 0, 2])]
    np.testing.assert_array_equal(out.numpy(), a[[0, 0, 2]])
    out.backward(gradient=sg.tensor(upstream))

    t = torch.tensor(a, requires_grad=True)
    t[torch.tensor([0, 0, 2])].backward(torch.tensor(upstream))
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), **TOL)
    # row 0 gets the sum of the first two upstream rows, rows 1 and 3 get nothing
    np.testing.assert_allclose(x.grad.numpy()[0], upstream[0] + upstream[1], **TOL)
    np.testing.assert_array_equal(x.grad.numpy()[[1, 3]], 0.0)


def test_repeated_indices_accumulate_in_compiled_gradient():
    a = _randn(5)
    idx = np.array([4, 1, 4, 4, 0, -1])
    weights = _upstream(idx.shape)
    w = sg.tensor(weights)
    grad = sg.grad(lambda v, i: (v[i] ** 2 * w).sum())(a, idx)

    t = torch.tensor(a, requires_grad=True)
    (t[torch.tensor(idx)] ** 2 * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(grad.numpy(), t.grad.numpy(), **TOL)


def test_logits_picked_by_arange_and_labels():
    logits = _randn(6, 4)
    labels = np.array([3, 0, 3, 1, 1, 2])
    upstream = _upstream((6,))

    x = sg.tensor(logits, requires_grad=True)
    picked = x[sg.arange(6), sg.tensor(labels)]
    np.testing.assert_array_equal(picked.numpy(), logits[np.arange(6), labels])
    picked.backward(gradient=sg.tensor(upstream))

    t = torch.tensor(logits, requires_grad=True)
    t[torch.arange(6), torch.tensor(labels)].backward(torch.tensor(upstream))
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), **TOL)

    compiled = sg.grad(lambda v, y: (v[sg.arange(6), y] * sg.tensor(upstream)).sum())
    np.testing.assert_allclose(compiled(logits, labels).numpy(), t.grad.numpy(), **TOL)


def test_index_tensor_with_repeats_in_two_dims():
    a = _randn(3, 4)
    rows = np.array([[0, 2], [2, 2]])
    cols = np.array([[1, 1], [3, 1]])
    upstream = _upstream((2, 2))
    x = sg.tensor(a, requires_grad=True)
    out = x[sg.tensor(rows), sg.tensor(cols)]
    np.testing.assert_array_equal(out.numpy(), a[rows, cols])
    out.backward(gradient=sg.tensor(upstream))
    expected = np.zeros_like(a)
    np.add.at(expected, (rows, cols), upstream)
    np.testing.assert_allclose(x.grad.numpy(), expected, **TOL)


# --- out-of-range indices -------------------------------------------------------------------
@pytest.mark.parametrize("bad", [3, -4], ids=["past-end", "before-start"])
def test_out_of_range_index_tensor_raises_index_error_in_eager_mode(bad):
    x = sg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(IndexError):
        x[sg.tensor([0, bad])]
    with pytest.raises(IndexError):
        sg.tensor(np.ones((2, 3)))[:, sg.tensor([bad])]


def test_out_of_range_int_index_raises_index_error():
    with pytest.raises(IndexError):
        sg.tensor([1.0, 2.0, 3.0])[3]
    with pytest.raises(IndexError):
        sg.compile(lambda v: v[-4])(np.ones(3))


_TAKE_TWICE = sg.compile(lambda v, i: v[i] * 2)  # shared: one kernel for the cases below


@pytest.mark.parametrize("bad", [3, 7, -4], ids=["past-end", "far", "before-start"])
def test_out_of_range_index_tensor_raises_index_error_when_compiled(bad):
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(_TAKE_TWICE(x, np.array([2, -3])).numpy(), [6.0, 2.0])
    with pytest.raises(IndexError):  # same signature: the cached kernel must still check
        _TAKE_TWICE(x, np.array([0, bad]))


def test_out_of_range_index_raises_index_error_in_compiled_gradient():
    g = sg.grad(lambda v, i: v[i].sum())
    with pytest.raises(IndexError):
        g(np.ones((3, 2)), np.array([1, 3]))


def test_out_of_range_in_second_index_dim_raises_when_compiled():
    f = sg.compile(lambda v, r, c: v[r, c])
    with pytest.raises(IndexError):
        f(np.ones((3, 4)), np.array([0, 2]), np.array([1, 4]))


# --- shape errors ---------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(4, 2), (-1, 4), (7,), (2, -1, 2)])
def test_reshape_to_incompatible_size_raises_shape_error(shape):
    x = sg.ones(2, 3)
    with pytest.raises(ShapeError):
        x.reshape(*shape)
    with pytest.raises(ShapeError):
        x.view(shape)
    with pytest.raises(ShapeError):
        sg.compile(lambda v: v.reshape(shape))(np.ones((2, 3)))


def test_reshape_with_two_inferred_sizes_raises_shape_error():
    with pytest.raises(ShapeError):
        sg.ones(2, 3).reshape(-1, -1)


def test_cat_shape_errors():
    with pytest.raises(ShapeError, match=r"\(2, 3\).*\(3, 3\)"):
        sg.cat([sg.ones(2, 3), sg.ones(3, 3)], dim=1)
    with pytest.raises(ShapeError):
        sg.cat([sg.ones(2, 3), sg.ones(2, 3, 1)])
    with pytest.raises(ShapeError):
        sg.cat([sg.ones(2, 3), sg.ones(2, 3)], dim=2)
    with pytest.raises(ShapeError):
        sg.cat([])
    with pytest.raises(ShapeError):
        sg.compile(lambda a, b: sg.cat([a, b], dim=0))(np.ones((2, 3)), np.ones((2, 4)))


def test_cat_of_matching_shapes_matches_numpy():
    a, b = _randn(2, 3), _randn(2, 1, seed=2)
    np.testing.assert_array_equal(
        sg.cat([sg.tensor(a), sg.tensor(b)], dim=-1).numpy(), np.concatenate([a, b], axis=-1)
    )


def test_stack_shape_errors():
    with pytest.raises(ShapeError, match=r"\(2, 3\).*\(3, 3\)"):
        sg.stack([sg.ones(2, 3), sg.ones(3, 3)])
    with pytest.raises(ShapeError):
        sg.stack([sg.ones(3), sg.ones(3)], dim=2)
    with pytest.raises(ShapeError):
        sg.stack([])
    with pytest.raises(ShapeError):
        sg.compile(lambda a, b: sg.stack([a, b]))(np.ones(3), np.ones(4))


def test_matmul_shape_error_names_both_shapes():
    with pytest.raises(ShapeError) as info:
        sg.ones(2, 3) @ sg.ones(4, 5)
    assert "(2, 3)" in str(info.value) and "(4, 5)" in str(info.value)
    assert isinstance(info.value, ValueError)

    with pytest.raises(ShapeError) as info:
        sg.matmul(sg.ones(2, 3), sg.ones(4, 5))
    assert "(2, 3)" in str(info.value) and "(4, 5)" in str(info.value)

    with pytest.raises(ShapeError) as info:
        sg.compile(lambda a, b: a @ b)(np.ones((2, 3)), np.ones((4, 5)))
    assert "(2, 3)" in str(info.value) and "(4, 5)" in str(info.value)


def test_matmul_batch_shapes_that_do_not_broadcast_raise_shape_error():
    with pytest.raises(ShapeError):
        sg.ones(2, 3, 4) @ sg.ones(3, 4, 5)


# --- integer tensors ------------------------------------------------------------------------
def test_int64_index_argument_flows_through_compile():
    f = sg.compile(lambda x, idx: x[idx] * 2)
    x = _randn(5)
    idx = np.array([4, 0, 0, -1, 2], dtype=np.int64)
    out = f(x, idx)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out.numpy(), x[idx] * 2)
    np.testing.assert_array_equal(f(x, sg.tensor([1, 1])).numpy(), x[[1, 1]] * 2)
    # a 2-d index tensor: the result takes the index's shape
    idx2 = np.array([[3, 1], [1, 0]])
    np.testing.assert_array_equal(f(x, idx2).numpy(), x[idx2] * 2)


def test_int64_arithmetic_stays_int64_when_compiled():
    f = sg.compile(lambda i, j: i * 3 + j - 1)
    i = np.array([1, -2, 40], dtype=np.int64)
    j = np.array([[5], [6]], dtype=np.int64)
    out = f(i, j)
    expected = torch.tensor(i) * 3 + torch.tensor(j) - 1
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out.numpy(), expected.numpy())


def test_int64_labels_mixed_with_floats_in_compiled_gradient():
    x = _randn(4, 3)
    labels = np.array([2, 0, 2, 1])
    g = sg.grad(lambda v, y: (v[sg.arange(4), y] * y.to(sg.float64)).sum())(x, labels)
    t = torch.tensor(x, requires_grad=True)
    y = torch.tensor(labels)
    (t[torch.arange(4), y] * y.double()).sum().backward()
    np.testing.assert_allclose(g.numpy(), t.grad.numpy(), **TOL)


def test_requires_grad_on_integer_tensor_raises_grad_error():
    with pytest.raises(GradError):
        sg.tensor([1, 2], requires_grad=True)
    with pytest.raises(GradError):
        sg.arange(3, requires_grad=True)
    with pytest.raises(GradError):
        sg.tensor([1, 2]).requires_grad_()
