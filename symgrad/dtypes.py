"""The dtypes symgrad tensors can have, NumPy-style type promotion, the default float dtype.

symgrad uses NumPy dtypes directly: ``sg.float64 is numpy.dtype('float64')``.
Python scalars are *weak*: ``float32_tensor * 2.0`` stays float32 (as in
NumPy 2, PyTorch and JAX).  The default float dtype (of ``sg.tensor([1.5])``,
``sg.zeros(2)``, ``sg.rand(2)``, layer weights) is float64, NumPy's;
``set_default_dtype(float32)`` gives PyTorch's.  Tensors hold float32, float64,
int64 or bool; ``int32`` is accepted where a dtype is asked for and stored as int64.

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
int32 = np.dtype(np.int32)  # accepted as a requested dtype; tensors store it as int64
bool_ = np.dtype(np.bool_)

SUPPORTED = (float32, float64, int64, bool_)
SHORT_NAMES = {float32: "f32", float64: "f64", int64: "i64", bool_: "bool"}


def is_floating(dtype: np.dtype) -> bool:
    """True for the dtypes that can carry gradients."""
    return dtype in (float32, float64)


_DEFAULT = [float64]  # process-wide, as PyTorch's


def set_default_dtype(dtype: object) -> None:
    """Set the float dtype that float data, creation functions and layers use by default.

    Only float32 and float64 are accepted (as PyTorch: a TypeError otherwise).

    >>> import symgrad as sg
    >>> sg.set_default_dtype(sg.float32)
    >>> sg.tensor([1.5]).dtype, sg.zeros(2).dtype
    (dtype('float32'), dtype('float32'))
    >>> sg.set_default_dtype(sg.float64)
    """
    try:
        dt = None if dtype is None else np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or dt.kind != "f" or dt not in (float32, float64):
        raise TypeError(
            f"only floating-point types are supported as the default type, got {dtype!r} "
            "(use sg.float32 or sg.float64)"
        )
    _DEFAULT[0] = float32 if dt == float32 else float64


def get_default_dtype() -> np.dtype:
    """The default float dtype: float64 unless :func:`set_default_dtype` changed it.

    >>> get_default_dtype()
    dtype('float64')
    """
    return _DEFAULT[0]


def result_dtype(tensor_dtypes: Iterable[np.dtype], scalars: Iterable[object] = ()) -> np.dtype:
    """The dtype NumPy gives an elementwise op over these tensors and Python scalars, except
    that a float result of integer tensors and float scalars is the default float dtype (as
    PyTorch: ``int_tensor * 2.5``)."""
    dtypes = list(tensor_dtypes)
    scalars = list(scalars)
    if not dtypes:
        dtype = np.result_type(*[np.asarray(s) for s in scalars])
    else:
        dtype = np.result_type(*dtypes, *scalars)
    if dtype.kind == "f" and not any(d.kind == "f" for d in dtypes):
        if not any(isinstance(s, np.floating | np.ndarray) for s in scalars):
            return _DEFAULT[0]
    return dtype


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
