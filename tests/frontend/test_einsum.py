"""``sg.einsum`` against ``torch.einsum``: values and gradients, eager and compiled."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from support.gradcheck import eager_grads, tolerances, torch_grads

import symgrad as sg

# (equation, operand shapes)
CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),
    ("ij->ji", [(2, 3)]),
    ("ij->i", [(2, 3)]),
    ("ij->j", [(2, 3)]),
    ("ij->", [(2, 3)]),
    ("ijk->kji", [(2, 3, 4)]),
    ("i,j->ij", [(3,), (4,)]),
    ("i,i->", [(5,)] * 2),
    ("i,i->i", [(5,)] * 2),
    ("ij,ij->ij", [(2, 3)] * 2),
    ("ij,ij->i", [(2, 3)] * 2),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("iji->j", [(3, 2, 3)]),
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]),
    ("...i->...", [(2, 3, 4)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("ab,bc,ca->", [(2, 3), (3, 4), (4, 2)]),
    ("Ab,bC->AC", [(2, 3), (3, 4)]),
    ("ba,Ab", [(2, 3), (4, 2)]),
    ("bA,aC", [(2, 3), (4, 5)]),
    ("ij,jk->ik", [(2, 1), (3, 4)]),
    (" b i j , b j k -> b i k ", [(2, 3, 4), (2, 4, 5)]),
    ("bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]),
]

PARAMS = [
    pytest.param(eq, shapes, id=f"{eq.replace(' ', '')}-{len(shapes)}") for eq, shapes in CASES
]


def _arrays(shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) for shape in shapes]


def _fn(equation):
    return lambda m, *xs: m.einsum(equation, *xs)


def _upstream(equation, arrays):
    out = torch.einsum(equation, *[torch.tensor(a) for a in arrays])
    return np.random.default_rng(1).uniform(0.5, 1.5, tuple(out.shape))


@pytest.mark.parametrize(("equation", "shapes"), PARAMS)
def test_eager_matches_torch(equation, shapes):
    arrays = _arrays(shapes)
    upstream = _upstream(equation, arrays)
    expected, expected_grads = torch_grads(_fn(equation), arrays, upstream)
    value, grads = eager_grads(_fn(equation), arrays, upstream)
    assert value.shape == expected.shape
    np.testing.assert_allclose(value, expected, **tolerances(np.float64))
    for got, want in zip(grads, expected_grads, strict=True):
        np.testing.assert_allclose(got, want, **tolerances(np.float64))


@pytest.mark.parametrize(("equation", "shapes"), PARAMS[:4] + PARAMS[14:20])
def test_compiled_matches_torch(equation, shapes):
    arrays = _arrays(shapes, seed=4)
    upstream = _upstream(equation, arrays)
    expected, expected_grads = torch_grads(_fn(equation), arrays, upstream)
    value = sg.compile(lambda *xs: sg.einsum(equation, *xs), tier="interpret")(*arrays)
    np.testing.assert_allclose(value.numpy(), expected, **tolerances(np.float64))
    weights = sg.tensor(upstream)
    grads = sg.grad(
        lambda *xs: (sg.einsum(equation, *xs) * weights).sum(),
        tuple(range(len(arrays))),
        tier="interpret",
    )(*arrays)
    for got, want in zip(grads, expected_grads, strict=True):
        np.testing.assert_allclose(got.numpy(), want, **tolerances(np.float64))


def test_kernel_for_batched_matmul_matches_torch():
    a, b = _arrays([(2, 3, 4), (2, 4, 5)], seed=5)
    f = sg.grad(lambda x, y: sg.einsum("bij,bjk->bik", x, y).tanh().sum(), (0, 1), tier="sync")
    ga, gb = f(a, b)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    torch.einsum("bij,bjk->bik", ta, tb).tanh().sum().backward()
    np.testing.assert_allclose(ga.numpy(), ta.grad.numpy(), **tolerances(np.float64))
    np.testing.assert_allclose(gb.numpy(), tb.grad.numpy(), **tolerances(np.float64))


def test_operands_as_one_list_and_float32():
    a, b = (x.astype(np.float32) for x in _arrays([(2, 3), (3, 2)]))
    got = sg.einsum("ij,jk->ik", [sg.tensor(a), sg.tensor(b)])
    want = torch.einsum("ij,jk->ik", [torch.tensor(a), torch.tensor(b)])
    assert got.dtype == sg.float32
    np.testing.assert_allclose(got.numpy(), want.numpy(), **tolerances(np.float32))


@pytest.mark.parametrize(
    ("equation", "shapes", "message"),
    [
        ("ij,jk->ik", [(2, 3)], "operands"),
        ("ij,jk->ik", [(2, 2), (3, 4)], "does not broadcast"),
        ("ij->ik", [(2, 3)], "does not appear"),
        ("ij->ii", [(2, 2)], "more than once"),
        ("i1->i", [(2, 3)], "letters"),
        ("ijk->i", [(2, 3)], "do not match"),
        ("ii->i", [(2, 3)], "does not broadcast"),
        ("....i->i", [(2, 3)], "ellipsis"),
    ],
)
def test_bad_equations_raise_clear_errors(equation, shapes, message):
    with pytest.raises((ValueError, sg.errors.ShapeError), match=message):
        sg.einsum(equation, *[sg.zeros(s) for s in shapes])
