"""Applying ops to Tensors: check shapes, compute values with NumPy, record IR nodes.

A node is recorded when a trace is active, or when gradients are enabled and
an input requires grad; otherwise an op is plain NumPy.

Example:
    >>> import symgrad as sg
    >>> elementwise("mul", sg.tensor([1., 2.]), 3)
    tensor([3., 6.])
"""

from __future__ import annotations

from collections.abc import Callable
from math import prod

import numpy as np

from symgrad import ir
from symgrad.dtypes import canonical, is_floating, result_dtype
from symgrad.errors import GradError, ShapeError
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
        if type(value) is not np.ndarray:
            value = np.asarray(value)  # NumPy returns scalars for 0-d results
        if value.dtype != dtype:
            value = value.astype(dtype)
    if var is not None and var.producer is not None:
        var.value = value
    return Tensor(value, requires_grad, var=var, shape=shape, dtype=dtype)


_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _should_record(tensors: list[Tensor], differentiable: bool) -> bool:
    if STATE.trace is not None:
        return True
    return differentiable and STATE.grad_enabled and any(t.requires_grad for t in tensors)


def elementwise(name: str, *operands: object) -> Tensor:
    """Apply the elementwise op ``name`` to Tensors and Python numbers, with broadcasting."""
    op = OPS[name]
    tensors: list[Tensor] = []
    constants: list[object] = []
    values: list[object] = []
    plain = True  # only same-dtype float tensors and Python numbers: no promotion to work out
    requires_grad = False
    for operand in operands:
        if isinstance(operand, Tensor):
            pass
        elif type(operand) in (float, int):
            constants.append(operand)
            values.append(operand)
            continue
        elif isinstance(operand, _SCALARS):
            plain = False
            constants.append(operand)
            values.append(operand)
            continue
        elif isinstance(operand, np.ndarray | list | tuple):
            operand = as_tensor(operand)
        else:
            return NotImplemented
        tensors.append(operand)
        constants.append(None)
        values.append(operand._value)
        requires_grad = requires_grad or operand.requires_grad
    first = tensors[0]
    shape = first._shape
    dtype = first._dtype
    for t in tensors:
        if t._shape != shape:
            shape = structured.broadcast_shapes(name, *(t._shape for t in tensors))
            break
    for t in tensors:
        if t._dtype is not dtype:
            plain = False
            break
    if op.kind == "bool":
        dtype = np.dtype(np.bool_)
    elif not plain or dtype not in _FLOATS:
        dtype = _result_dtype(op.kind, tensors, constants)
    tracing = STATE.trace is not None
    requires_grad = requires_grad and op.differentiable
    value = None if tracing else op.numpy(*values)
    var = None
    if tracing or (requires_grad and STATE.grad_enabled):
        expr = template(op, tuple(constants))
        params = () if op.differentiable else ("stop_gradient",)
        inputs = [leaf_var(t) for t in tensors]
        var = ir.Node("elementwise", inputs, shape, dtype, expr=expr, params=params).output
    return _make(value, var, requires_grad and var is not None, shape, dtype)


def apply_structured(
    tensors: list[Tensor],
    build: Callable[..., ir.Var],
    evaluate: Callable[..., np.ndarray],
    differentiable: bool = True,
) -> Tensor:
    """Apply a structured op: ``build(*vars)`` makes its IR (and checks shapes),
    ``evaluate(*arrays)`` computes its value in eager mode.
    """
    tracing = STATE.trace is not None
    requires_grad = differentiable and any(t.requires_grad for t in tensors)
    record = tracing or (requires_grad and STATE.grad_enabled)
    if record:
        out = build(*[leaf_var(t) for t in tensors])
    else:
        out = build(*[ir.Var(t._shape, t._dtype) for t in tensors])
    value = None if tracing else evaluate(*[t._value for t in tensors])
    return _make(value, out if record else None, requires_grad and record, out.shape, out.dtype)


def _result_dtype(kind: str, tensors: list[Tensor], constants: list[object]) -> np.dtype:
    if kind == "bool":
        return np.dtype(np.bool_)
    first = tensors[0]._dtype
    if first in _FLOATS and all(t._dtype is first for t in tensors):
        if all(c is None or type(c) in (float, int) for c in constants):
            return first  # the common case: Python numbers never promote a float tensor
    scalars = [c for c in constants if c is not None]
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


def cast(x: Tensor, dtype) -> Tensor:
    """``x`` converted to ``dtype``; gradients flow between float dtypes."""
    x = as_tensor(x)
    target = canonical(dtype)
    if target == x._dtype:
        return x
    differentiable = is_floating(target) and is_floating(x._dtype)
    tracing = STATE.trace is not None
    requires_grad = differentiable and x.requires_grad
    value = None if tracing else x._value.astype(target)
    var = None
    if tracing or (requires_grad and STATE.grad_enabled):
        node = ir.Node(
            "elementwise", [leaf_var(x)], x._shape, target, expr=ir.arg(0), params=("cast",)
        )
        var = node.output
    return _make(value, var, requires_grad and var is not None, x._shape, target)


def copy(x: Tensor) -> Tensor:
    """A new tensor with a copy of ``x``'s values (traced: the same value)."""
    if x._value is None:
        return Tensor(None, var=x._var, shape=x._shape, dtype=x._dtype)
    return Tensor(x._value.copy())


def assign(target: Tensor, source) -> Tensor:
    """``target`` takes ``source``'s values in place (``x.add_(y)``, ``x -= y``, ...).

    Eager: the array is overwritten (a leaf that requires grad needs ``sg.no_grad()``,
    as in PyTorch). Traced: the tensor is rebound to the new value; a captured
    tensor (a Parameter, a ``.grad``, an optimizer buffer) becomes kernel state that
    is written back after every call.
    """
    source = source if isinstance(source, Tensor) else Tensor(np.asarray(source))
    if source._shape != target._shape:
        joint = structured.broadcast_shapes("in-place update", source._shape, target._shape)
        if joint != target._shape:
            raise ShapeError(
                f"in-place update of a tensor of shape {target._shape} with a value of shape "
                f"{source._shape}: the result must keep the target's shape"
            )
    trace = STATE.trace
    if trace is not None:
        value = cast(source, target._dtype) if source._dtype != target._dtype else source
        var = leaf_var(value)
        if var.shape != target._shape:
            var = structured.broadcast_to(var, target._shape)
        if target._value is None:
            target._var = var
        else:
            trace.assign(target, var)
        return target
    if target.requires_grad and target.is_leaf and STATE.grad_enabled:
        raise GradError(
            "a leaf tensor that requires grad cannot be changed in place while gradients are "
            "recorded; wrap the update in `with sg.no_grad():` (as optimizers do)"
        )
    if source.requires_grad and STATE.grad_enabled and target.is_leaf:
        raise GradError(
            "copying a value that requires grad into a plain tensor in place would cut the "
            "graph; use the out-of-place result instead"
        )
    np.copyto(target._value, source._value, casting="unsafe")
    return target
