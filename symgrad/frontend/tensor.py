"""``Tensor``: a NumPy array plus, when recording, the IR value that made it.

Ops compute their value with NumPy at once (eager mode) and, when an input
requires grad, record an IR node; ``backward()`` hands the recorded graph to the
runtime, which registers itself here (:func:`register_backward`).  Inside
:func:`symgrad.compile` a Tensor may be *abstract*: a shape and dtype with no value.

This module holds the data and the basic properties; the operators and math
methods (``+``, ``x.exp()``, ``x.sum()``, ``x.reshape()``) are attached by
:mod:`symgrad.frontend.tensor_methods`, from the op table and the front-end
functions, so the op layer never imports back into this class.

Example:
    >>> import symgrad as sg
    >>> a = sg.tensor([2., 3.], requires_grad=True)
    >>> b = sg.tensor([6., 4.], requires_grad=True)
    >>> Q = 3*a**3 - b**2
    >>> Q.backward(gradient=sg.tensor([1., 1.]))
    >>> a.grad, b.grad
    (tensor([36., 81.]), tensor([-12.,  -8.]))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from symgrad import ir
from symgrad.dtypes import check_grad_dtype
from symgrad.errors import GradError, ShapeError, TraceError
from symgrad.ir.shapes import same_shape
from symgrad.recording import RECORDING

_backward: Callable[..., None] | None = None


def register_backward(fn: Callable[..., None]) -> None:
    """The runtime's ``backward(tensor, gradient)``, which ``Tensor.backward`` calls."""
    global _backward
    _backward = fn


class Version:
    """How many times an array was changed in place; a tensor and its views share one.

    A recorded value remembers the version it had, so ``backward()`` can refuse a value
    that was changed since (as PyTorch's "modified by an inplace operation").
    """

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0

    def bump(self) -> None:
        self.value += 1


class Tensor:
    """An n-dimensional array (NumPy underneath) that can record the ops applied to it.

    Make one with ``sg.tensor``, ``sg.zeros``, ``sg.randn``, ...  Ops compute their value
    at once with NumPy; when an input ``requires_grad``, they also record a graph node,
    and ``backward()`` differentiates that graph symbolically and accumulates into each
    leaf's ``.grad``.  Inside ``@sg.compile`` a Tensor may be abstract (a shape and a dtype,
    no value): reading its value there (``item()``, ``if x > 0:``) raises ``TraceError``.
    The methods and operators (``x.exp()``, ``x.sum(dim)``, ``x @ y``, ``x[1:]``) are
    attached when ``symgrad`` is imported.

    >>> import symgrad as sg
    >>> x = sg.tensor([[1., 2.], [3., 4.]], requires_grad=True)
    >>> y = (x @ x.T).sum()
    >>> y.backward()
    >>> y.item(), x.grad
    (52.0, tensor([[ 8., 12.],
            [ 8., 12.]]))
    """

    __slots__ = (
        "__weakref__",
        "_dtype",
        "_grad",
        "_shape",
        "_value",
        "_var",
        "_version",
        "_view_of",
        "_views",  # weak references to views of this tensor (set by the first one)
        "requires_grad",
    )
    __array_ufunc__ = None  # NumPy defers to our reflected operators: ndarray * Tensor → Tensor
    __hash__ = object.__hash__

    def __init__(
        self,
        value: np.ndarray | None,
        requires_grad: bool = False,
        *,
        var=None,
        shape=None,
        dtype=None,
    ):
        self._value = value
        self._var = var
        self._shape = value.shape if value is not None else tuple(shape)
        self._dtype = value.dtype if value is not None else np.dtype(dtype)
        self.requires_grad = requires_grad
        self._grad: Tensor | None = None
        self._version = Version()
        # (base, write_back) when this tensor is a view of ``base`` (``x[0]``, ``x.T``):
        # an in-place op on it is then written back into ``base`` (see frontend/views.py)
        self._view_of: tuple | None = None

    @property
    def grad(self) -> Tensor | None:
        """The accumulated gradient of a leaf (``None`` until a backward reaches it)."""
        grad = self._grad
        if grad is not None and RECORDING.trace is not None and self._value is not None:
            RECORDING.trace.reached_through(grad, lambda leaf=self: leaf._grad)
        return grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            _check_grad(self, value)
        trace = RECORDING.trace
        if trace is not None and self._value is not None:
            trace.grad_written(self)
        self._grad = value

    # --- basic properties -----------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self._shape

    @property
    def dtype(self) -> np.dtype:
        return self._dtype

    @property
    def ndim(self) -> int:
        return len(self._shape)

    def dim(self) -> int:
        return len(self._shape)

    def size(self, dim: int | None = None) -> tuple[int, ...] | int:
        return self._shape if dim is None else self._shape[dim]

    def numel(self) -> int:
        return int(np.prod(self._shape, dtype=np.int64))

    @property
    def is_leaf(self) -> bool:
        return self._var is None or self._var.producer is None

    @property
    def is_traced(self) -> bool:
        """True for an abstract tensor inside a traced function (no value yet)."""
        return self._value is None

    def _concrete(self, what: str) -> np.ndarray:
        if self._value is None:
            raise TraceError(
                f"{what} needs the value of a traced tensor of shape {self._shape}, which is not "
                "known while tracing; keep the computation in tensor ops (use sg.where for "
                "data-dependent choices) or call the function uncompiled"
            )
        return self._value

    # --- conversion -----------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """The underlying NumPy array (shared, not copied)."""
        return self._concrete("numpy()")

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        value = self._concrete("np.asarray()")
        if dtype is not None and np.dtype(dtype) != value.dtype:
            return value.astype(dtype)
        return value.copy() if copy else value

    def item(self) -> float | int | bool:
        """The single element as a Python number."""
        value = self._concrete("item()")
        if value.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self._shape}")
        return value.item()

    def tolist(self) -> Any:
        return self._concrete("tolist()").tolist()

    def __float__(self) -> float:
        self._concrete("float()")
        return float(self.item())

    def __int__(self) -> int:
        self._concrete("int()")
        return int(self.item())

    def __bool__(self) -> bool:
        if self._value is None:
            raise TraceError(
                "Python control flow (if/while/and/or/bool()) on a traced tensor of shape "
                f"{self._shape} cannot be compiled: its value is unknown while tracing. "
                "Use sg.where(condition, a, b) to choose between values elementwise"
            )
        return bool(self._value)

    def __len__(self) -> int:
        if not self._shape:
            raise TypeError("len() of a 0-d tensor")
        return self._shape[0]

    @property
    def data(self) -> Tensor:
        """The values as a plain Tensor sharing the array, outside the recorded graph and
        its version counter (PyTorch's ``.data``)."""
        return wrap(self._concrete("data"))

    @data.setter
    def data(self, value: Tensor | np.ndarray) -> None:
        array = value._concrete("data") if isinstance(value, Tensor) else np.asarray(value)
        self._value = array
        self._shape = array.shape
        self._dtype = array.dtype
        self._var = None
        self._version.bump()  # graphs recorded with the old array must not read the new one

    def detach(self) -> Tensor:
        """The same values, cut off from the recorded graph (no gradient flows through)."""
        if self._value is not None:
            return Tensor(self._value)
        var = ir.elementwise(ir.arg(0), [self._var], params=ir.STOP_GRADIENT)
        return Tensor(None, var=var, shape=self._shape, dtype=self._dtype)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Mark a leaf tensor as needing gradients (in place)."""
        if requires_grad:
            check_grad_dtype(self._dtype)
        if not self.is_leaf:
            raise GradError("requires_grad_() can only change leaf tensors; use detach() first")
        self.requires_grad = requires_grad
        return self

    def backward(self, gradient: Tensor | np.ndarray | float | None = None) -> None:
        """Accumulate d(self)/d(leaf) · gradient into every leaf's ``.grad``."""
        if _backward is None:
            raise GradError("backward() needs the symgrad runtime: import symgrad first")
        _backward(self, gradient)

    def __repr__(self) -> str:
        if self._value is None:
            return f"Tensor(shape={self._shape}, dtype={self._dtype}, traced)"
        body = np.array2string(self._value, separator=", ", prefix="tensor(")
        extras = []
        if self._dtype == np.float32:
            extras.append("dtype=float32")
        if self.requires_grad:
            extras.append("requires_grad=True" if self.is_leaf else "grad_fn=<recorded>")
        return "tensor(" + ", ".join([body, *extras]) + ")"


def _check_grad(tensor: Tensor, grad: object) -> None:
    """What PyTorch accepts as ``t.grad = g``: a tensor of ``t``'s shape and dtype."""
    if not isinstance(grad, Tensor):
        raise TypeError(f"assigned grad expected to be a Tensor or None, got {type(grad).__name__}")
    if not same_shape(grad._shape, tensor._shape):
        raise ShapeError(
            f"assigned grad has shape {grad._shape} but the tensor has shape {tensor._shape}"
        )
    if grad._dtype != tensor._dtype:
        raise GradError(
            f"assigned grad has dtype {grad._dtype} but the tensor has dtype {tensor._dtype}"
        )


_new = object.__new__


def wrap(value: np.ndarray) -> Tensor:
    """A plain Tensor around ``value`` (no copy, no checks): the fast path for kernel results."""
    t = _new(Tensor)
    t._value = value
    t._var = None
    t._shape = value.shape
    t._dtype = value.dtype
    t.requires_grad = False
    t._grad = None
    t._version = Version()
    t._view_of = None
    return t


def leaf_var(tensor: Tensor) -> ir.Var:
    """The IR value standing for ``tensor`` in the graph being recorded."""
    if tensor._value is None:
        return tensor._var
    trace = RECORDING.trace
    if trace is not None:
        return trace.capture(tensor)
    var = tensor._var
    if var is None:
        var = tensor._var = ir.Var(tensor._shape, tensor._dtype, origin=tensor)
        var.version = (tensor._version, tensor._version.value)
    elif var.producer is None and var.version[0].value != var.version[1]:
        # changed in place since: a new leaf value (the old one stays with the graphs using it)
        counter = var.version[0]
        var = tensor._var = ir.Var(var.shape, var.dtype, origin=var.origin)
        var.version = (counter, counter.value)
    return var
