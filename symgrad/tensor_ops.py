"""Applying ops to Tensors: check shapes, compute values with NumPy, record IR nodes.

A node is recorded when a trace is active, or when gradients are enabled and
an input requires grad; otherwise an op is plain NumPy.

Example:
    >>> import symgrad as sg
    >>> elementwise("mul", sg.tensor([1., 2.]), 3)
    tensor([3., 6.])
"""

from __future__ import annotations

from math import prod

import numpy as np

from symgrad import ir
from symgrad.dtypes import canonical, is_floating, result_dtype
from symgrad.errors import GradError
from symgrad.ops import structured
from symgrad.ops.elementwise import OPS, template
from symgrad.state import STATE
from symgrad.tensor import Tensor, leaf_var

_SCALARS = (bool, int, float, np.bool_, np.integer, np.floating)


def check_grad_dtype(dtype: np.dtype) -> None:
    """Only floating-point tensors can require gradients (as in PyTorch)."""
    if not is_floating(dtype):
        raise GradError(
            f"only float32/float64 tensors can require gradients, got dtype {dtype}; "
            "convert with .double() or sg.tensor(data, dtype=sg.float64)"
        )


def as_tensor(value: object) -> Tensor:
    """A Tensor for ``value`` (Tensors pass through; arrays and lists are wrapped)."""
    if isinstance(value, Tensor):
        return value
    array = np.asarray(value)
    dtype = canonical(array.dtype)
    return Tensor(array if array.dtype == dtype else array.astype(dtype))


def _make(value, var, requires_grad, shape, dtype) -> Tensor:
    if value is not None:
        value = np.asarray(value)  # NumPy returns scalars for 0-d results
        if value.dtype != dtype:
            value = value.astype(dtype)
    if var is not None and var.producer is not None:
        var.value = value
    return Tensor(value, requires_grad, var=var, shape=shape, dtype=dtype)


def _should_record(tensors: list[Tensor], differentiable: bool) -> bool:
    if STATE.trace is not None:
        return True
    return differentiable and STATE.grad_enabled and any(t.requires_grad for t in tensors)


def elementwise(name: str, *operands: object) -> Tensor:
    """Apply the elementwise op ``name`` to Tensors and Python numbers, with broadcasting."""
    op = OPS[name]
    tensors: list[Tensor] = []
    constants: list[object] = []
    for operand in operands:
        if isinstance(operand, Tensor):
            tensors.append(operand)
            constants.append(None)
        elif isinstance(operand, _SCALARS):
            constants.append(operand)
        elif isinstance(operand, np.ndarray | list | tuple):
            tensors.append(as_tensor(operand))
            constants.append(None)
        else:
            return NotImplemented
    shapes = [t._shape for t in tensors]
    shape = shapes[0] if len(shapes) == 1 else structured.broadcast_shapes(name, *shapes)
    dtype = _result_dtype(op.kind, tensors, [c for c in constants if c is not None])
    record = _should_record(tensors, op.differentiable)
    value = None
    if STATE.trace is None:
        args = iter(tensors)
        value = op.numpy(*[next(args)._value if c is None else c for c in constants])
    var = None
    requires_grad = op.differentiable and any(t.requires_grad for t in tensors)
    if record:
        expr = template(op, tuple(constants))
        var = ir.Node("elementwise", [leaf_var(t) for t in tensors], shape, dtype, expr=expr).output
    return _make(value, var, requires_grad and record, shape, dtype)


def _result_dtype(kind: str, tensors: list[Tensor], scalars: list[object]) -> np.dtype:
    if kind == "bool":
        return np.dtype(np.bool_)
    dtype = result_dtype([t._dtype for t in tensors], scalars)
    if kind == "float" and dtype.kind != "f":
        return np.dtype(np.float64)
    return canonical(dtype)


def sum(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Sum over ``dim`` (an int, a tuple, or ``None`` for all), optionally keeping dims."""
    x = as_tensor(x)
    axes = structured.normalize_dims(dim, x._shape, "sum")
    shape = structured.reduced_shape(x._shape, axes, keepdim)
    dtype = structured.sum_dtype(x._dtype)
    value = None if STATE.trace is not None else np.sum(x._value, axis=axes, keepdims=keepdim)
    var = None
    if _should_record([x], True):
        var = ir.Node("sum", [leaf_var(x)], shape, dtype, params=(axes, keepdim)).output
    return _make(
        None if value is None else np.asarray(value),
        var,
        x.requires_grad and var is not None,
        shape,
        dtype,
    )


def mean(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Mean over ``dim`` (an int, a tuple, or ``None`` for all), optionally keeping dims."""
    x = as_tensor(x)
    axes = structured.normalize_dims(dim, x._shape, "mean")
    count = prod(x._shape[a] for a in axes)
    total = sum(x, axes, keepdim)
    with np.errstate(invalid="ignore", divide="ignore"):
        return elementwise("div", total, count)
