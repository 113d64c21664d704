"""Creation functions (ranges, identities, filled and ``*_like`` tensors) against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import symgrad as sg

# The same call on either library (``m`` is torch or symgrad), float64 compared.
MAKERS = {
    "linspace": lambda m: m.linspace(0, 1, 7, dtype=m.float64),
    "linspace_negative": lambda m: m.linspace(3, -2.5, 10, dtype=m.float64),
    "linspace_one": lambda m: m.linspace(2, 5, 1, dtype=m.float64),
    "linspace_none": lambda m: m.linspace(2, 5, 0, dtype=m.float64),
    "linspace_long": lambda m: m.linspace(-1.3, 7.1, 1001, dtype=m.float64),
    "linspace_int": lambda m: m.linspace(0, 10, 4, dtype=m.int64),
    "linspace_float32": lambda m: m.linspace(0, 1, 9, dtype=m.float32),
    "logspace": lambda m: m.logspace(-2, 2, 5, dtype=m.float64),
    "logspace_base2": lambda m: m.logspace(0, 4, 5, base=2, dtype=m.float64),
    "eye": lambda m: m.eye(3, dtype=m.float64),
    "eye_rect": lambda m: m.eye(2, 4, dtype=m.float64),
    "eye_long": lambda m: m.eye(2, dtype=m.int64),
    "arange_tenths": lambda m: m.arange(0, 1, 0.1, dtype=m.float64),
    "arange_halves": lambda m: m.arange(1, 2.5, 0.5, dtype=m.float64),
    "arange_down": lambda m: m.arange(10, 0, -3),
    "arange_empty": lambda m: m.arange(0),
    "full": lambda m: m.full((2, 3), -0.5, dtype=m.float64),
    "full_like": lambda m: m.full_like(m.zeros(2, 2, dtype=m.int64), 4),
    "full_like_dtype": lambda m: m.full_like(m.zeros(2), 4, dtype=m.float32),
    "zeros_like": lambda m: m.zeros_like(m.ones(3, dtype=m.float32)),
    "ones_like": lambda m: m.ones_like(m.zeros(2, dtype=m.int64)),
    "empty_like": lambda m: m.empty_like(m.ones(2, 2, dtype=m.float64)).zero_(),
    "new_full": lambda m: m.zeros(2, dtype=m.float32).new_full((3,), 2.5),
    "new_ones": lambda m: m.zeros(2, dtype=m.int64).new_ones(2, 2),
    "new_tensor": lambda m: m.zeros(2, dtype=m.float32).new_tensor([1, 2]),
}


@pytest.mark.parametrize("make", MAKERS.values(), ids=MAKERS.keys())
def test_values_and_dtypes_match_torch(make):
    s, t = make(sg), make(torch)
    assert str(s.dtype) == str(t.dtype).removeprefix("torch.")
    assert tuple(s.shape) == tuple(t.shape)
    np.testing.assert_allclose(s.numpy(), t.numpy(), rtol=1e-15, atol=1e-15)


def test_linspace_requires_grad_and_is_a_leaf():
    x = sg.linspace(0, 1, 3, requires_grad=True)
    assert x.requires_grad and x.is_leaf and x.grad_fn is None


def test_from_numpy_and_as_tensor_share_memory():
    array = np.zeros(3)
    x = sg.from_numpy(array)
    array[0] = 5.0
    assert x[0].item() == 5.0
    assert sg.as_tensor(array).numpy() is array
    assert sg.as_tensor(x) is x
    assert sg.as_tensor([1, 2]).dtype == sg.int64
    with pytest.raises(TypeError, match=r"np\.ndarray"):
        sg.from_numpy([1.0])
    with pytest.raises(TypeError, match="int32"):
        sg.from_numpy(np.zeros(2, np.int32))


def test_log10_and_log2_match_torch_including_edge_values():
    data = [0.0, 1e-300, 0.5, 1.0, 8.0, 1000.0, np.inf, -1.0]
    for name in ("log10", "log2"):
        s = getattr(sg, name)(sg.tensor(data))
        t = getattr(torch, name)(torch.tensor(data, dtype=torch.float64))
        np.testing.assert_allclose(s.numpy(), t.numpy(), rtol=1e-15)
    ints = sg.log2(sg.tensor([1, 4]))
    assert ints.dtype == sg.float64 and ints.tolist() == [0.0, 2.0]
