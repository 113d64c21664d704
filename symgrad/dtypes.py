"""The dtypes symgrad tensors can have and NumPy-style type promotion.

symgrad uses NumPy dtypes directly: ``sg.float64 is numpy.dtype('float64')``.
Python scalars are *weak*: ``float32_tensor * 2.0`` stays float32 (as in
NumPy 2, PyTorch and JAX).

Example:
    >>> from symgrad.dtypes import result_dtype, float32
    >>> result_dtype([float32], [2.0])
    dtype('float32')
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from symgrad.errors import GradError, UnsupportedOpError

float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int64 = np.dtype(np.int64)
bool_ = np.dtype(np.bool_)

SUPPORTED = (float32, float64, int64, bool_)
SHORT_NAMES = {float32: "f32", float64: "f64", int64: "i64", bool_: "bool"}


def is_floating(dtype: np.dtype) -> bool:
    """True for the dtypes that can carry gradients."""
    return dtype in (float32, float64)


def result_dtype(tensor_dtypes: Iterable[np.dtype], scalars: Iterable[object] = ()) -> np.dtype:
    """The dtype NumPy gives an elementwise op over these tensors and Python scalars."""
    dtypes = list(tensor_dtypes)
    if not dtypes:
        return np.result_type(*[np.asarray(s) for s in scalars])
    return np.result_type(*dtypes, *scalars)


def canonical(dtype: object) -> np.dtype:
    """Map a user-given dtype (``np.float32``, ``'float32'``, ...) to a supported one."""
    dt = np.dtype(dtype)
    if dt.kind == "f":
        return float32 if dt.itemsize <= 4 else float64
    if dt.kind in "iu":
        return int64
    if dt.kind == "b":
        return bool_
    raise UnsupportedOpError(f"dtype {dt} is not supported; use float32, float64, int64 or bool")


def check_grad_dtype(dtype: np.dtype) -> None:
    """Only floating-point tensors can require gradients (as in PyTorch)."""
    if not is_floating(dtype):
        raise GradError(
            f"only float32/float64 tensors can require gradients, got dtype {dtype}; "
            "convert with .double() or sg.tensor(data, dtype=sg.float64)"
        )
