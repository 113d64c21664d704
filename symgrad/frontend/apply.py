"""Applying ops to Tensors: check shapes, compute values with NumPy, record IR nodes.

A node is recorded when a trace is active, or when gradients are enabled and
an input requires grad (:func:`records`); otherwise an op is plain NumPy.
Elementwise ops come from the op table by name; structured ops are applied with
:func:`apply`, which takes everything from the primitive: its shape rule, its
NumPy evaluation and how it is recorded.

Example:
    >>> import symgrad as sg
    >>> elementwise("mul", sg.tensor([1., 2.]), 3)
    tensor([3., 6.])
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from math import prod
from typing import Any

import numpy as np
import sympy

from symgrad import ir
from symgrad.dtypes import canonical, get_default_dtype, is_floating, result_dtype
from symgrad.errors import GradError, ShapeError
from symgrad.frontend.tensor import Tensor, leaf_var
from symgrad.frontend.views import check_view_writable, write_through
from symgrad.ir.elementwise_ops import OPS, ElementwiseOp, template
from symgrad.ir.shapes import broadcast_shapes, normalize_dims, same_shape
from symgrad.ir.sizes import SymSize
from symgrad.recording import RECORDING

_SCALARS = (bool, int, float, np.bool_, np.integer, np.floating)


def records(requires_grad: bool) -> bool:
    """Whether an op records a node: always while tracing, else when gradients are wanted."""
    return RECORDING.trace is not None or (requires_grad and RECORDING.grad_enabled)


def parse_sizes(sizes: tuple) -> tuple[int, ...]:
    """Sizes given as ``f(2, 3)`` or ``f((2, 3))`` (or a list or array), as ints.

    A size that is not an integer (``2.5``) is a TypeError, as in PyTorch.
    """
    if len(sizes) == 1 and isinstance(sizes[0], Sequence | np.ndarray):
        sizes = tuple(sizes[0])
    try:
        return tuple(n if isinstance(n, SymSize) else operator.index(n) for n in sizes)
    except TypeError:
        bad = next(n for n in sizes if not isinstance(n, int | np.integer))
        raise TypeError(
            f"sizes must be ints, got {bad!r} ({type(bad).__name__}) in {tuple(sizes)}"
        ) from None


def to_array(value: object) -> np.ndarray:
    """``value`` as an array of a supported dtype (Tensors and arrays are not copied)."""
    if isinstance(value, Tensor):
        return value.numpy()
    array = np.asarray(value)
    dtype = canonical(array.dtype)
    return array if array.dtype == dtype else array.astype(dtype)


def as_tensor(value: object) -> Tensor:
    """A Tensor for ``value`` (Tensors pass through; arrays and lists are wrapped)."""
    if isinstance(value, Tensor):
        return value
    return Tensor(to_array(value))


def _make(value, var, requires_grad, shape, dtype, views: Tensor | None = None) -> Tensor:
    """The result Tensor; ``views`` is the input whose array ``value`` may be a view of
    (the two then share one version counter)."""
    if value is not None:
        if type(value) is not np.ndarray:
            value = np.asarray(value)  # NumPy returns scalars for 0-d results
        if value.dtype != dtype:
            value = value.astype(dtype)
    out = Tensor(value, requires_grad, var=var, shape=shape, dtype=dtype)
    if views is not None and value is not None and value.base is not None:
        base = views._value
        if value.base is base or value.base is base.base:
            out._version = views._version
    if var is not None and var.producer is not None:
        var.value = value
        var.version = (out._version, out._version.value)
    return out


_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


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
        elif isinstance(operand, SymSize):  # a traced size (``x.sum() / n``): a size symbol
            constants.append(operand.expr)
            values.append(operand.hint)
            continue
        elif isinstance(operand, np.ndarray | list | tuple):
            operand = as_tensor(operand)
        else:
            return NotImplemented
        tensors.append(operand)
        constants.append(None)
        values.append(operand._value)
        requires_grad = requires_grad or operand.requires_grad
    if op.check is not None:
        tensor_dtypes = iter(t._dtype for t in tensors)
        dtypes = [next(tensor_dtypes) if c is None else None for c in constants]
        op.check(dtypes, constants)
    first = tensors[0]
    shape = first._shape
    dtype = first._dtype
    for t in tensors:
        if not same_shape(t._shape, shape):
            shape = broadcast_shapes(name, *(t._shape for t in tensors))
            break
    for t in tensors:
        if t._dtype is not dtype:
            plain = False
            break
    if op.kind == "bool":
        dtype = np.dtype(np.bool_)
    elif not plain or dtype not in _FLOATS:
        dtype = _result_dtype(op.kind, tensors, constants)
    requires_grad = requires_grad and op.differentiable
    value = None if RECORDING.trace is not None else op.numpy(*values)
    var = None
    if records(requires_grad):
        expr = template(op, tuple(constants))
        inputs = [leaf_var(t) for t in tensors]
        if expr.has(sympy.zoo, sympy.nan):  # a constant SymPy folds away (x / 0.0): keep it
            inputs = [leaf_var(t) for t in _constants_as_tensors(operands, dtype)]
            expr = template(op, (None,) * len(inputs))
        params = ir.PLAIN if op.differentiable else ir.STOP_GRADIENT
        var = ir.elementwise(expr, inputs, shape, dtype, params=params)
    return _make(value, var, requires_grad and var is not None, shape, dtype)


def _constants_as_tensors(operands: Sequence[object], dtype: np.dtype) -> list[Tensor]:
    """Every operand as a Tensor, Python numbers as 0-d tensors of the result's dtype."""
    return [
        o
        if isinstance(o, Tensor)
        else as_tensor(np.asarray(o, dtype if dtype.kind == "f" else None))
        for o in operands
    ]


def apply(primitive: ir.Primitive, tensors: Sequence[Tensor], params: Any = None) -> Tensor:
    """Apply a structured primitive: its shape rule checks the inputs, its NumPy
    evaluation gives the value (eager), and it is recorded when :func:`records` says so.
    """
    requires_grad = False
    if primitive.differentiable:
        for t in tensors:
            if t.requires_grad:
                requires_grad = True
                break
    tracing = RECORDING.trace is not None
    out = None
    if tracing or (requires_grad and RECORDING.grad_enabled):
        out = primitive.bind([leaf_var(t) for t in tensors], params)
        shape, dtype = out.shape, out.dtype
    else:
        shape, dtype = primitive.shape_rule(params, *tensors)
    value = None if tracing else primitive.evaluate(params, *[t._value for t in tensors])
    return _make(value, out, requires_grad and out is not None, shape, dtype, tensors[0])


def _result_dtype(kind: str, tensors: list[Tensor], constants: list[object]) -> np.dtype:
    if kind == "bool":
        return np.dtype(np.bool_)
    first = tensors[0]._dtype
    if first in _FLOATS and all(t._dtype is first for t in tensors):
        if all(
            c is None or type(c) in (float, int) or isinstance(c, sympy.Expr) for c in constants
        ):
            return first  # the common case: Python numbers never promote a float tensor
    scalars = [2 if isinstance(c, sympy.Expr) else c for c in constants if c is not None]
    dtype = result_dtype([t._dtype for t in tensors], scalars)
    if kind == "float" and dtype.kind != "f":
        return get_default_dtype()  # int / int, exp(int): the default float dtype
    return canonical(dtype)


def sum(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Sum over ``dim`` (an int, a tuple, or ``None`` for all), optionally keeping dims."""
    x = as_tensor(x)
    axes = normalize_dims(dim, x._shape, "sum")
    return apply(ir.SUM, [x], ir.ReduceParams(axes, keepdim))


def mean(x: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Mean over ``dim`` (an int, a tuple, or ``None`` for all), optionally keeping dims."""
    x = as_tensor(x)
    axes = normalize_dims(dim, x._shape, "mean")
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
    requires_grad = differentiable and x.requires_grad
    value = None if RECORDING.trace is not None else x._value.astype(target)
    var = None
    if records(requires_grad):
        var = ir.elementwise(ir.arg(0), [leaf_var(x)], x._shape, target, params=ir.CAST)
    return _make(value, var, requires_grad and var is not None, x._shape, target)


def broadcast(x: Tensor, shape: tuple[int, ...]) -> Tensor:
    """``x`` broadcast to ``shape``: an elementwise copy, which fuses into its consumers."""
    if not same_shape(broadcast_shapes("broadcast_to", x._shape, shape), shape):
        raise ShapeError(f"cannot broadcast {x._shape} to {shape}")
    value = None if RECORDING.trace is not None else np.broadcast_to(x._value, shape)
    var = ir.broadcast_to(leaf_var(x), shape) if records(x.requires_grad) else None
    return _make(value, var, x.requires_grad and var is not None, shape, x._dtype, x)


def filled(fill: float, shape: tuple, dtype: np.dtype) -> Tensor:
    """A constant tensor; traced, a constant node of the graph (not a captured array)."""
    if RECORDING.trace is None:
        return Tensor(np.full(shape, fill, dtype))
    var = ir.elementwise(sympy.sympify(fill), [], shape=shape, dtype=dtype)
    return Tensor(None, var=var, shape=shape, dtype=dtype)


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
    if not same_shape(source._shape, target._shape):
        joint = broadcast_shapes("in-place update", source._shape, target._shape)
        if joint != target._shape:
            raise ShapeError(
                f"in-place update of a tensor of shape {target._shape} with a value of shape "
                f"{source._shape}: the result must keep the target's shape"
            )
    trace = RECORDING.trace
    if trace is not None:
        value = cast(source, target._dtype) if source._dtype != target._dtype else source
        var = ir.broadcast_to(leaf_var(value), target._shape)
        if target._value is None:
            target._var = var
        else:
            trace.assign(target, var)
        write_through(target)
        return target
    if target.requires_grad and target.is_leaf and RECORDING.grad_enabled:
        raise GradError(
            "a leaf tensor that requires grad cannot be changed in place while gradients are "
            "recorded; wrap the update in `with sg.no_grad():` (as optimizers do)"
        )
    if RECORDING.grad_enabled:
        check_view_writable(target)
    np.copyto(target._value, source._value, casting="unsafe")
    target._version.bump()
    recorded = target._var is not None and target._var.producer is not None
    if RECORDING.grad_enabled and (source.requires_grad or recorded):
        _rebind(target, source)
        write_through(target)  # the base's array has the values; its graph needs them too
    return target


def _rebind(target: Tensor, source: Tensor) -> None:
    """After an in-place op, ``target`` stands for its new value in the graph (as PyTorch's
    in-place ops on non-leaf tensors): a copy node over ``source``.  The copy keeps no
    saved value (its array is ``target``'s, which the next in-place op overwrites), so a
    gradient that needs it recomputes it from ``source``."""
    value = cast(source, target._dtype) if source._dtype != target._dtype else source
    var = ir.elementwise(ir.arg(0), [leaf_var(value)], shape=target._shape, dtype=target._dtype)
    target._var = var
    target.requires_grad = target.requires_grad or source.requires_grad


def _operands(values: tuple) -> list:
    """Python numbers stay constants of the expression; anything else becomes a Tensor
    (the first operand too when no operand is one)."""
    out = [v if isinstance(v, int | float) else as_tensor(v) for v in values]
    if out and not any(isinstance(v, Tensor) for v in out):
        out[0] = as_tensor(out[0])
    return out


def table_function(row: ElementwiseOp) -> Callable[..., Tensor]:
    """The module-level function for an op-table row: ``sg.exp(x)``, ``sg.where(c, a, b)``."""

    def fn(*operands: object) -> Tensor:
        return elementwise(row.name, *_operands(operands))

    fn.__name__ = fn.__qualname__ = row.name
    fn.__doc__ = (
        row.doc or f"Elementwise ``{row.name}``: ``sg.{row.name}(x)`` is ``x.{row.name}()``."
    )
    return fn


def table_method(row: ElementwiseOp) -> Callable[..., Tensor]:
    """The Tensor method for an op-table row: ``x.exp()``."""

    def method(self: Tensor, *others: object) -> Tensor:
        return elementwise(row.name, self, *others)

    method.__name__ = method.__qualname__ = row.name
    method.__doc__ = row.doc or f"Elementwise ``{row.name}`` (see ``sg.{row.name}``)."
    return method


def check_number(value: object, parameter: str, op: str) -> None:
    """A scalar parameter must be a number (or a tensor), as PyTorch's argument parser says."""
    if not isinstance(value, (*_SCALARS, Tensor, np.ndarray)):
        raise TypeError(
            f"{op}(): argument '{parameter}' must be a number, not {type(value).__name__}"
        )


def clamp(x: Tensor, min: object = None, max: object = None) -> Tensor:
    """Limit values to ``[min, max]`` (either may be None); the gradient is 1 inside and at
    the boundaries, as in PyTorch."""
    for parameter, value in (("min", min), ("max", max)):
        if value is not None:
            check_number(value, parameter, "clamp")
    out = x
    if min is not None:
        out = elementwise("clamp_min", out, min)
    if max is not None:
        out = elementwise("clamp_max", out, max)
    return out
