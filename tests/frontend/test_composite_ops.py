"""Ops composed from other differentiable ops (split, chunk, flip, roll, repeat, tril, ...),
against PyTorch: values and gradients, eagerly and inside compiled functions."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from support.gradcheck import eager_grads, tolerances, torch_grads

import symgrad as sg

MASK = [True, False, True, False]

# (id, fn(module, *inputs), input shapes): the same code runs on torch and on symgrad.
CASES = [
    ("t", lambda m, a: a.t(), [(3, 4)]),
    ("t_1d", lambda m, a: a.t() * 2, [(3,)]),
    ("sg.t", lambda m, a: m.t(a), [(2, 3)]),
    ("pow_number", lambda m, a: a.pow(3), [(2, 3)]),
    ("pow_tensor", lambda m, a, b: (a * a + 0.5).pow(b), [(2, 3), (3,)]),
    ("sg.pow_base", lambda m, a: m.pow(2.0, a), [(4,)]),
    ("sg.pow", lambda m, a: m.pow(a, 2), [(4,)]),
    (
        "split_int",
        lambda m, a: m.cat([p * (i + 1) for i, p in enumerate(a.split(2, 1))], 1),
        [(3, 5)],
    ),
    (
        "split_sizes",
        lambda m, a: m.cat([p * (i + 1) for i, p in enumerate(a.split([1, 3]))]),
        [(4, 2)],
    ),
    ("sg.split", lambda m, a: m.split(a, 2, dim=-1)[1] * 3, [(2, 5)]),
    ("chunk", lambda m, a: m.cat([p * (i + 2) for i, p in enumerate(a.chunk(3))]), [(7,)]),
    ("chunk_dim", lambda m, a: a.chunk(2, dim=1)[0] * a.chunk(2, dim=1)[1], [(3, 4)]),
    ("masked_fill", lambda m, a: a.masked_fill(a > 0, 2.0), [(3, 4)]),
    ("masked_fill_broadcast", lambda m, a: a.masked_fill(m.tensor(MASK), -1.5) * a, [(3, 4)]),
    ("masked_fill_tensor_value", lambda m, a, v: a.masked_fill(a > 0, v) * a, [(3, 4), ()]),
    (
        "masked_fill_neg_inf_softmax",
        lambda m, a: m.softmax(a.masked_fill(m.tensor(MASK), -math.inf), -1),
        [(3, 4)],
    ),
    ("flip", lambda m, a: a.flip(0) * a, [(3, 4)]),
    ("flip_dims", lambda m, a: a.flip((0, 2)), [(2, 3, 4)]),
    ("sg.flip", lambda m, a: m.flip(a, [-1]), [(2, 3)]),
    ("roll", lambda m, a: a.roll(1, 0) * a, [(3, 4)]),
    ("roll_dims", lambda m, a: a.roll((1, -2), (0, 1)), [(3, 4)]),
    ("roll_flat", lambda m, a: a.roll(2), [(3, 4)]),
    ("roll_wrap", lambda m, a: m.roll(a, -7, 1), [(2, 3)]),
    ("repeat", lambda m, a: a.repeat(2, 3), [(2, 3)]),
    ("repeat_new_dims", lambda m, a: a.repeat(2, 1, 2) * 1.5, [(2, 3)]),
    ("repeat_1d", lambda m, a: a.repeat(3), [(4,)]),
    ("expand_as", lambda m, a, b: a.expand_as(b) * b, [(3, 1), (3, 4)]),
    ("view_as", lambda m, a, b: a.view_as(b) * b, [(2, 6), (3, 4)]),
    ("clone", lambda m, a: a.clone() * a, [(3,)]),
    ("contiguous", lambda m, a: a.t().contiguous() * 2, [(2, 3)]),
    ("tril", lambda m, a: m.tril(a), [(3, 4)]),
    ("tril_diagonal", lambda m, a: a.tril(1), [(4, 3)]),
    ("triu", lambda m, a: a.triu(-1), [(3, 4)]),
    ("triu_batched", lambda m, a: m.triu(a, 2), [(2, 3, 5)]),
    ("where", lambda m, a, b: m.where(a > 0, a, b), [(3, 4), (4,)]),
    ("where_scalar", lambda m, a: m.where(a > 0, a, 0.5), [(3,)]),
    ("where_method", lambda m, a: a.where(a > 0, 0.25), [(5,)]),
    ("log10", lambda m, a: m.log10(a * a + 0.5), [(4,)]),
    ("log2", lambda m, a: (a * a + 0.5).log2(), [(4,)]),
]

PARAMS = [pytest.param(fn, shapes, id=name) for name, fn, shapes in CASES]


def _arrays(shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) for shape in shapes]


def _upstream(fn, arrays):
    out = fn(torch, *[torch.tensor(a) for a in arrays])
    return np.random.default_rng(1).uniform(0.5, 1.5, tuple(out.shape))


@pytest.mark.parametrize(("fn", "shapes"), PARAMS)
def test_eager_values_and_gradients_match_torch(fn, shapes):
    arrays = _arrays(shapes)
    upstream = _upstream(fn, arrays)
    expected, expected_grads = torch_grads(fn, arrays, upstream)
    value, grads = eager_grads(fn, arrays, upstream)
    np.testing.assert_allclose(value, expected, **tolerances(np.float64))
    for got, want in zip(grads, expected_grads, strict=True):
        np.testing.assert_allclose(got, want, **tolerances(np.float64))


@pytest.mark.parametrize(("fn", "shapes"), PARAMS)
def test_compiled_values_and_gradients_match_torch(fn, shapes):
    arrays = _arrays(shapes, seed=2)
    upstream = _upstream(fn, arrays)
    expected, expected_grads = torch_grads(fn, arrays, upstream)
    value = sg.compile(lambda *xs: fn(sg, *xs), tier="interpret")(*arrays)
    np.testing.assert_allclose(value.numpy(), expected, **tolerances(np.float64))
    weights = sg.tensor(upstream)
    positions = tuple(range(len(arrays)))
    grads = sg.grad(lambda *xs: (fn(sg, *xs) * weights).sum(), positions, tier="interpret")(*arrays)
    for got, want in zip(grads, expected_grads, strict=True):
        np.testing.assert_allclose(got.numpy(), want, **tolerances(np.float64))


@pytest.mark.parametrize(
    "name", ["flip", "roll_dims", "repeat_new_dims", "masked_fill_neg_inf_softmax", "triu_batched"]
)
def test_kernels_match_torch(name):
    """The fused Numba kernels (not only the interpreter) compute the same as PyTorch."""
    fn, shapes = next((fn, shapes) for n, fn, shapes in CASES if n == name)
    arrays = _arrays(shapes, seed=3)
    upstream = _upstream(fn, arrays)
    expected, expected_grads = torch_grads(fn, arrays, upstream)
    weights = sg.tensor(upstream)
    value, grads = sg.value_and_grad(
        lambda *xs: (fn(sg, *xs) * weights).sum(), tuple(range(len(arrays))), tier="sync"
    )(*arrays)
    np.testing.assert_allclose(
        value.item(), float((torch.tensor(expected) * torch.tensor(upstream)).sum())
    )
    for got, want in zip(grads, expected_grads, strict=True):
        np.testing.assert_allclose(got.numpy(), want, **tolerances(np.float64))


def test_repeated_eager_backward_reuses_a_kernel_with_neg_inf_mask():
    """The second backward of one structure runs a compiled kernel: -inf must survive it."""
    mask = [[True, False, False], [False, False, True]]
    for _ in range(3):
        a = sg.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
        sg.softmax(a.masked_fill(sg.tensor(mask), -math.inf), -1)[:, 1].sum().backward()
        t = torch.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
        torch.softmax(t.masked_fill(torch.tensor(mask), -math.inf), -1)[:, 1].sum().backward()
        np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), **tolerances(np.float64))


def test_split_and_chunk_return_tuples_with_torch_sizes():
    for n, size, chunks in [(5, 2, 3), (6, 4, 4), (1, 3, 2), (0, 1, 3)]:
        x, t = sg.arange(n), torch.arange(n)
        assert [p.tolist() for p in x.split(size)] == [p.tolist() for p in t.split(size)]
        assert [p.tolist() for p in x.chunk(chunks)] == [p.tolist() for p in t.chunk(chunks)]
        assert isinstance(x.split(size), tuple) and isinstance(x.chunk(chunks), tuple)


def test_masked_fill_keeps_dtype_and_masks_broadcast():
    x = sg.tensor([[1, 2, 3], [4, 5, 6]])
    t = torch.tensor([[1, 2, 3], [4, 5, 6]])
    got = x.masked_fill(sg.tensor([True, False, True]), 2.7)
    want = t.masked_fill(torch.tensor([True, False, True]), 2.7)
    assert got.dtype == sg.int64 and got.tolist() == want.tolist()
    grown = sg.zeros(3).masked_fill(sg.tensor([[True, False, True], [False, False, True]]), 1.0)
    want = torch.zeros(3).masked_fill(
        torch.tensor([[True, False, True], [False, False, True]]), 1.0
    )
    assert grown.tolist() == want.tolist()


def test_in_place_variants():
    x = sg.tensor([[1.0, 2.0], [3.0, 4.0]])
    t = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert x.masked_fill_(x > 2, 0.0) is x
    t.masked_fill_(t > 2, 0.0)
    assert x.tolist() == t.tolist()
    assert x.tril_().tolist() == t.tril_().tolist()
    assert x.pow_(2).tolist() == t.pow_(2).tolist()


def test_sizes_and_counts():
    x, t = sg.zeros(2, 3, 4), torch.zeros(2, 3, 4)
    assert x.numel() == x.nelement() == sg.numel(x) == t.numel() == t.nelement()
    assert x.dim() == t.dim() and x.size(1) == t.size(1) and x.size(-1) == t.size(-1)
    assert tuple(x.size()) == tuple(t.size())
    assert x.contiguous() is x and x.is_contiguous()


def test_where_with_only_a_condition_gives_indices():
    c = [[0, 1], [2, 0]]
    got = sg.where(sg.tensor(c))
    want = torch.where(torch.tensor(c))
    assert [g.tolist() for g in got] == [w.tolist() for w in want]


def test_all_any_and_logical_ops_match_torch():
    a = [[True, False, True], [True, True, True]]
    b = [[False, False, True], [True, False, True]]
    x, y, s, t = sg.tensor(a), sg.tensor(b), torch.tensor(a), torch.tensor(b)
    assert (x & y).tolist() == (s & t).tolist()
    assert (x | y).tolist() == (s | t).tolist()
    assert (x ^ y).tolist() == (s ^ t).tolist()
    assert (~x).tolist() == (~s).tolist()
    assert x.all().item() == s.all().item() and x.any().item() == s.any().item()
    assert x.all(dim=1).tolist() == s.all(dim=1).tolist()
    assert sg.any(y, 0, keepdim=True).tolist() == torch.any(t, 0, keepdim=True).tolist()
    n = [[0.0, 2.0], [-1.0, 0.0]]
    assert (
        sg.logical_and(sg.tensor(n), 1).tolist()
        == torch.logical_and(torch.tensor(n), torch.tensor(1)).tolist()
    )
    assert sg.logical_not(sg.tensor(n)).tolist() == torch.logical_not(torch.tensor(n)).tolist()
    with pytest.raises(TypeError, match="bool tensors"):
        sg.tensor([1, 2]) & sg.tensor([1, 0])


def test_bad_arguments_raise_clear_errors():
    x = sg.arange(6.0).reshape(2, 3)
    with pytest.raises(sg.errors.ShapeError, match="<= 2 dimensions"):
        sg.zeros(2, 2, 2).t()
    with pytest.raises(ValueError, match="sum exactly to 3"):
        x.split([1, 1], dim=1)
    with pytest.raises(ValueError, match="greater than 0"):
        x.chunk(0)
    with pytest.raises(TypeError, match="boolean masks"):
        x.masked_fill(sg.tensor([1, 0, 1]), 0.0)
    with pytest.raises(ValueError, match="0-dimensional"):
        x.masked_fill(x > 1, sg.tensor([1.0, 2.0, 3.0]))
    with pytest.raises(TypeError, match="must be a number"):
        x.masked_fill(x > 1, "zero")
    with pytest.raises(ValueError, match="more than once"):
        x.flip(0, 0)
    with pytest.raises(ValueError, match="align"):
        x.roll((1, 2), 0)
    with pytest.raises(sg.errors.ShapeError, match="can not be smaller"):
        x.repeat(2)
    with pytest.raises(sg.errors.ShapeError, match="at least 2 dimensions"):
        sg.tril(sg.zeros(3))
    with pytest.raises(TypeError, match="where"):
        sg.where(x > 1, x, "no")


@pytest.mark.parametrize("name", ["dot", "vdot", "outer", "ger"])
def test_dot_and_outer_match_torch_values_and_gradients(name):
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal(3), rng.standard_normal(3 if name in ("dot", "vdot") else 4)
    xs, ys = sg.tensor(a, requires_grad=True), sg.tensor(b, requires_grad=True)
    xt, yt = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    out_s, out_t = getattr(sg, name)(xs, ys), getattr(torch, name)(xt, yt)
    np.testing.assert_allclose(out_s.numpy(), out_t.detach().numpy(), rtol=1e-12)
    (out_s * out_s).sum().backward()
    (out_t * out_t).sum().backward()
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(ys.grad.numpy(), yt.grad.numpy(), rtol=1e-10)


def test_dot_refuses_what_torch_refuses():
    with pytest.raises(sg.errors.ShapeError, match="dot"):
        sg.dot(sg.ones(2, 2), sg.ones(2))
    with pytest.raises(sg.errors.ShapeError, match="lengths 2 and 3"):
        sg.dot(sg.ones(2), sg.ones(3))
