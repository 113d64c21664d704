"""Helpers for the layer tests: run the same computation in symgrad and in PyTorch (the
oracle, computed here in the test) and compare values and gradients, eagerly or compiled."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pytest
import torch

import symgrad as sg


def _is_float(a: np.ndarray) -> bool:
    return a.dtype.kind == "f"


def torch_value_and_grads(
    torch_fn: Callable, arrays: Sequence[np.ndarray], upstream: np.ndarray | None = None
):
    """``torch_fn(*tensors)`` and the gradients of ``sum(out * upstream)`` for float inputs."""
    inputs = [torch.tensor(a, requires_grad=_is_float(a)) for a in arrays]
    out = torch_fn(*inputs)
    up = np.ones(tuple(out.shape)) if upstream is None else upstream
    out.backward(torch.tensor(up, dtype=out.dtype))
    grads = [t.grad.numpy() if t.grad is not None else None for t in inputs]
    return out.detach().numpy(), grads


def compare_eager(
    sg_fn: Callable,
    torch_fn: Callable,
    *arrays: np.ndarray,
    rtol: float = 1e-10,
    atol: float = 1e-12,
    seed: int = 0,
) -> sg.Tensor:
    """Values of ``sg_fn`` and ``torch_fn`` on the same inputs, and gradients of every float
    input for a random upstream gradient, must agree; returns symgrad's output."""
    inputs = [sg.tensor(a, requires_grad=_is_float(a)) for a in arrays]
    out = sg_fn(*inputs)
    upstream = np.random.default_rng(seed).standard_normal(out.shape)
    expected, expected_grads = torch_value_and_grads(torch_fn, arrays, upstream)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.numpy(), expected, rtol=rtol, atol=atol)
    (out * sg.tensor(upstream)).sum().backward()
    for t, g in zip(inputs, expected_grads, strict=True):
        if g is not None:
            np.testing.assert_allclose(t.grad.numpy(), g, rtol=rtol, atol=atol)
    return out


def compare_compiled(
    sg_fn: Callable,
    torch_fn: Callable,
    *arrays: np.ndarray,
    rtol: float = 1e-10,
    atol: float = 1e-12,
    seed: int = 0,
) -> None:
    """Like :func:`compare_eager` with ``sg_fn`` inside ``sg.value_and_grad`` (one compiled
    kernel): the weighted sum of the outputs and the gradients of the float inputs."""
    floats = tuple(i for i, a in enumerate(arrays) if _is_float(a))
    probe = sg_fn(*[sg.tensor(a) for a in arrays])
    upstream = np.random.default_rng(seed).standard_normal(probe.shape)
    compiled = sg.value_and_grad(lambda *xs: (sg_fn(*xs) * upstream).sum(), argnums=floats)
    value, grads = compiled(*arrays)
    expected, expected_grads = torch_value_and_grads(torch_fn, arrays, upstream)
    np.testing.assert_allclose(value.item(), (expected * upstream).sum(), rtol=rtol, atol=atol)
    grads = grads if isinstance(grads, tuple | list) else (grads,)
    for i, g in zip(floats, grads, strict=True):
        np.testing.assert_allclose(g.numpy(), expected_grads[i], rtol=rtol, atol=atol)


@pytest.fixture
def eager():
    return compare_eager


@pytest.fixture
def compiled():
    return compare_compiled
