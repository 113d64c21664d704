"""Making tensors: from data, filled, random, ranges; the random seed.

The default float dtype is float64 (NumPy's); float32 data stays float32.

Example:
    >>> import symgrad as sg
    >>> sg.tensor([[1, 2], [3, 4]]).dtype
    dtype('int64')
    >>> sg.zeros(2, 3).shape
    (2, 3)
"""

from __future__ import annotations

import numpy as np

from symgrad.dtypes import canonical, check_grad_dtype, float64
from symgrad.frontend.apply import parse_sizes
from symgrad.frontend.tensor import Tensor

_generator = np.random.default_rng()


def _finish(value: np.ndarray, dtype, requires_grad: bool) -> Tensor:
    target = canonical(dtype if dtype is not None else value.dtype)
    if value.dtype != target:
        value = value.astype(target)
    if requires_grad:
        check_grad_dtype(target)
    return Tensor(value, requires_grad=requires_grad)


def tensor(data, dtype=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (a list, scalar, NumPy array or Tensor).

    >>> tensor([2., 3.], requires_grad=True)
    tensor([2., 3.], requires_grad=True)
    """
    if isinstance(data, Tensor):
        data = data.numpy()
    return _finish(np.array(data, copy=True), dtype, requires_grad)


def zeros(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros: ``sg.zeros(2, 3)`` or ``sg.zeros((2, 3))``."""
    return _finish(np.zeros(parse_sizes(size), dtype or float64), dtype, requires_grad)


def ones(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones: ``sg.ones(2, 3)`` or ``sg.ones((2, 3))``."""
    return _finish(np.ones(parse_sizes(size), dtype or float64), dtype, requires_grad)


def full(size, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value``."""
    return _finish(
        np.full(parse_sizes((size,)), fill_value, dtype or float64), dtype, requires_grad
    )


def zeros_like(t: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    """Zeros with ``t``'s shape (and dtype unless given)."""
    return zeros(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def ones_like(t: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    """Ones with ``t``'s shape (and dtype unless given)."""
    return ones(t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, requires_grad: bool = False) -> Tensor:
    """Evenly spaced values in ``[start, end)``, like ``torch.arange``.

    >>> arange(3)
    tensor([0, 1, 2])
    """
    if end is None:
        start, end = 0, start
    return _finish(np.arange(start, end, step), dtype, requires_grad)


def manual_seed(seed: int) -> None:
    """Seed the generator behind ``rand``/``randn`` (and later dropout) for reproducible runs."""
    global _generator
    _generator = np.random.default_rng(seed)


def rand(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    """Uniform samples in ``[0, 1)``."""
    return _finish(_generator.random(parse_sizes(size)), dtype, requires_grad)


def randn(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples."""
    return _finish(_generator.standard_normal(parse_sizes(size)), dtype, requires_grad)


def generator() -> np.random.Generator:
    """The generator seeded by :func:`manual_seed`."""
    return _generator
