"""A batch of rows times one matrix is one 2-D product (one BLAS call, one weight
gradient), with the values and gradients of PyTorch."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

import symgrad as sg
from symgrad import ir

F64 = np.dtype(np.float64)


def _matmul_nodes(out: ir.Var) -> list[ir.Node]:
    nodes, _ = ir.toposort([out])
    return [n for n in nodes if n.primitive is ir.MATMUL]


def test_batched_rows_times_a_matrix_is_one_2d_product():
    out = ir.matmul(ir.Var((4, 5, 3), F64), ir.Var((3, 2), F64))
    (node,) = _matmul_nodes(out)
    assert out.shape == (4, 5, 2) and node.inputs[0].shape == (20, 3)
    vector = ir.matmul(ir.Var((4, 5, 3), F64), ir.Var((3,), F64))
    assert vector.shape == (4, 5)
    both = ir.matmul(ir.Var((4, 5, 3), F64), ir.Var((4, 3, 2), F64))  # batched both: as is
    assert _matmul_nodes(both)[0].inputs[0].shape == (4, 5, 3)


def test_symbolic_batch_sizes_fold_too():
    import sympy

    b, t = sympy.symbols("b t", integer=True, positive=True)
    out = ir.matmul(ir.Var((b, t, 3), F64), ir.Var((3, 2), F64))
    (node,) = _matmul_nodes(out)
    assert out.shape == (b, t, 2) and node.inputs[0].shape == (b * t, 3)


@pytest.mark.parametrize("tier", ["interpret", "sync"])
@pytest.mark.parametrize("shape", [(2, 3, 4), (2, 1, 3, 4), (5, 4)])
def test_values_and_gradients_match_torch(shape, tier):
    rng = np.random.default_rng(3)
    x, w, g = rng.standard_normal(shape), rng.standard_normal((6, 4)), rng.standard_normal(6)

    def loss(lib, x, w):
        return ((x @ w.T) ** 2 * lib.tensor(g)).sum()

    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    expected = loss(torch, tx, tw)
    expected.backward()
    f = sg.value_and_grad(lambda x, w: loss(sg, x, w), argnums=(0, 1), tier=tier)
    value, (gx, gw) = f(sg.tensor(x), sg.tensor(w))
    np.testing.assert_allclose(value.item(), expected.item(), rtol=1e-12)
    np.testing.assert_allclose(gx.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gw.numpy(), tw.grad.numpy(), rtol=1e-12, atol=1e-12)
    if len(shape) == 3:  # a new batch size: the same kernel (sizes are symbolic)
        bigger = rng.standard_normal((7, 3, 4))
        tx = torch.tensor(bigger, requires_grad=True)
        loss(torch, tx, torch.tensor(w)).backward()
        _, (gx, _) = f(sg.tensor(bigger), sg.tensor(w))
        np.testing.assert_allclose(gx.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_the_kernel_calls_blas_once_per_product():
    x, w = np.ones((8, 16, 4)), np.ones((4, 3))
    source = sg.grad(lambda x, w: (x @ w).sum(), argnums=1, tier="sync").source(x, w)
    calls = re.findall(r"^\s+sg_gemm\(", source, re.MULTILINE)
    assert len(calls) == 1 and "for ib" not in source
