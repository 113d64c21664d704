"""Shared gradient checks: finite differences on NumPy references, and PyTorch as an oracle."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

import symgrad as sg

torch.set_default_dtype(torch.float64)


def central_differences(
    fn: Callable[..., float], arrays: Sequence[np.ndarray], h: float = 1e-6
) -> list[np.ndarray]:
    """d fn / d arrays[i] by central differences (fn returns a scalar)."""
    grads = []
    for i, base in enumerate(arrays):
        grad = np.zeros_like(base, dtype=np.float64)
        for idx in np.ndindex(base.shape):
            args_plus = [a.copy() for a in arrays]
            args_minus = [a.copy() for a in arrays]
            args_plus[i][idx] += h
            args_minus[i][idx] -= h
            grad[idx] = (fn(*args_plus) - fn(*args_minus)) / (2 * h)
        grads.append(grad)
    return grads


def torch_grads(
    fn: Callable, arrays: Sequence[np.ndarray], upstream: np.ndarray
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Value and input gradients of ``fn(torch, *inputs)`` for the given upstream gradient."""
    inputs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = fn(torch, *inputs)
    out.backward(torch.tensor(upstream))
    return out.detach().numpy(), [t.grad.numpy() for t in inputs]


def eager_grads(
    fn: Callable, arrays: Sequence[np.ndarray], upstream: np.ndarray
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Value and input gradients of ``fn(sg, *inputs)`` through eager ``backward``."""
    inputs = [sg.tensor(a, requires_grad=True) for a in arrays]
    out = fn(sg, *inputs)
    out.backward(gradient=sg.tensor(upstream))
    return out.numpy(), [t.grad.numpy() for t in inputs]


def tolerances(dtype: np.dtype) -> dict[str, float]:
    """The project's agreement bar with PyTorch: 1e-10 (float64), 1e-5 (float32)."""
    if np.dtype(dtype) == np.float32:
        return {"rtol": 1e-5, "atol": 1e-6}
    return {"rtol": 1e-10, "atol": 1e-12}
