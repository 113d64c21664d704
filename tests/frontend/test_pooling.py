"""Average pooling through a depthwise ``conv`` node: values and gradients against PyTorch
(borders, ``ceil_mode``, ``count_include_pad``, float32), compiled with a new batch size."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import symgrad as sg
import symgrad.nn.functional as F

TF = torch.nn.functional
CASES = [
    {"kernel_size": 2},
    {"kernel_size": 3, "stride": 2, "padding": 1},
    {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
    {
        "kernel_size": (3, 2),
        "stride": (2, 3),
        "padding": 1,
        "ceil_mode": True,
        "count_include_pad": False,
    },
    {"kernel_size": 2, "divisor_override": 3},
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kwargs", CASES, ids=str)
def test_avg_pool2d_matches_torch_eager_and_compiled(kwargs, dtype):
    tol = {"rtol": 1e-10, "atol": 1e-12} if dtype == np.float64 else {"rtol": 1e-5, "atol": 1e-6}
    rng = np.random.default_rng(0)
    step = sg.grad(lambda x, u: (F.avg_pool2d(x, **kwargs) * u).sum(), argnums=0, tier="sync")
    for batch in (2, 3):
        x = rng.standard_normal((batch, 3, 7, 8)).astype(dtype)
        tx = torch.tensor(x, requires_grad=True)
        expected = TF.avg_pool2d(tx, **kwargs)
        u = rng.standard_normal(tuple(expected.shape)).astype(dtype)
        expected.backward(torch.tensor(u))
        sx = sg.tensor(x, requires_grad=True)
        out = F.avg_pool2d(sx, **kwargs)
        assert out.dtype == dtype
        np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), **tol)
        (out * sg.tensor(u)).sum().backward()
        np.testing.assert_allclose(sx.grad.numpy(), tx.grad.numpy(), **tol)
        grad = step(x, u)
        np.testing.assert_allclose(grad.numpy(), tx.grad.numpy(), **tol)
        assert step.status() == "kernel"
    assert step.trace_count() == 1


def test_avg_pool1d_matches_torch():
    x = np.random.default_rng(1).standard_normal((2, 3, 9))
    kwargs = {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}
    sx, tx = sg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    F.avg_pool1d(sx, **kwargs).sum().backward()
    TF.avg_pool1d(tx, **kwargs).sum().backward()
    np.testing.assert_allclose(sx.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
