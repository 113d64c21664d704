"""``Tensor``: a NumPy array plus, when recording, the IR value that made it.

Ops compute their value with NumPy at once (eager mode) and, when an input
requires grad, record an IR node; ``backward()`` compiles (once per graph
structure) and runs the gradient kernel.  Inside :func:`symgrad.compile` a
Tensor may be *abstract*: a shape and dtype with no value.

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

from typing import Any

import numpy as np

from symgrad import ir
from symgrad.errors import GradError, TraceError
from symgrad.state import STATE


class Tensor:
    """An n-dimensional array that can record the ops applied to it."""

    __slots__ = (
        "__weakref__",
        "_dtype",
        "_shape",
        "_value",
        "_var",
        "grad",
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
        self.grad: Tensor | None = None

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

    def detach(self) -> Tensor:
        """The same values, cut off from the recorded graph (no gradient flows through)."""
        if self._value is not None:
            return Tensor(self._value)
        node = ir.Node(
            "elementwise",
            [self._var],
            self._shape,
            self._dtype,
            expr=ir.arg(0),
            params=("stop_gradient",),
        )
        return Tensor(None, var=node.output, shape=self._shape, dtype=self._dtype)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Mark a leaf tensor as needing gradients (in place)."""
        from symgrad.tensor_ops import check_grad_dtype

        if requires_grad:
            check_grad_dtype(self._dtype)
        if not self.is_leaf:
            raise GradError("requires_grad_() can only change leaf tensors; use detach() first")
        self.requires_grad = requires_grad
        return self

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

    # --- autograd ---------------------------------------------------------------------
    def backward(self, gradient: Tensor | np.ndarray | float | None = None) -> None:
        """Accumulate d(self)/d(leaf) · gradient into every leaf's ``.grad``."""
        from symgrad.eager import backward

        backward(self, gradient)

    # --- arithmetic -------------------------------------------------------------------
    def __add__(self, other):
        return _ops.elementwise("add", self, other)

    def __radd__(self, other):
        return _ops.elementwise("add", other, self)

    def __sub__(self, other):
        return _ops.elementwise("sub", self, other)

    def __rsub__(self, other):
        return _ops.elementwise("sub", other, self)

    def __mul__(self, other):
        return _ops.elementwise("mul", self, other)

    def __rmul__(self, other):
        return _ops.elementwise("mul", other, self)

    def __truediv__(self, other):
        return _ops.elementwise("div", self, other)

    def __rtruediv__(self, other):
        return _ops.elementwise("div", other, self)

    def __pow__(self, other):
        return _ops.elementwise("pow", self, other)

    def __rpow__(self, other):
        return _ops.elementwise("pow", other, self)

    def __neg__(self):
        return _ops.elementwise("neg", self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ops.elementwise("abs", self)

    def __lt__(self, other):
        return _ops.elementwise("lt", self, other)

    def __le__(self, other):
        return _ops.elementwise("le", self, other)

    def __gt__(self, other):
        return _ops.elementwise("gt", self, other)

    def __ge__(self, other):
        return _ops.elementwise("ge", self, other)

    def __eq__(self, other):
        return _ops.elementwise("eq", self, other)

    def __ne__(self, other):
        return _ops.elementwise("ne", self, other)

    # --- math methods -----------------------------------------------------------------
    def exp(self) -> Tensor:
        return _ops.elementwise("exp", self)

    def log(self) -> Tensor:
        return _ops.elementwise("log", self)

    def sqrt(self) -> Tensor:
        return _ops.elementwise("sqrt", self)

    def abs(self) -> Tensor:
        return _ops.elementwise("abs", self)

    def sin(self) -> Tensor:
        return _ops.elementwise("sin", self)

    def cos(self) -> Tensor:
        return _ops.elementwise("cos", self)

    def tanh(self) -> Tensor:
        return _ops.elementwise("tanh", self)

    def sigmoid(self) -> Tensor:
        return _ops.elementwise("sigmoid", self)

    def relu(self) -> Tensor:
        return _ops.elementwise("relu", self)

    def sum(self, dim=None, keepdim: bool = False) -> Tensor:
        return _ops.sum(self, dim, keepdim)

    def mean(self, dim=None, keepdim: bool = False) -> Tensor:
        return _ops.mean(self, dim, keepdim)


_new = object.__new__


def wrap(value: np.ndarray) -> Tensor:
    """A plain Tensor around ``value`` (no copy, no checks): the fast path for kernel results."""
    t = _new(Tensor)
    t._value = value
    t._var = None
    t._shape = value.shape
    t._dtype = value.dtype
    t.requires_grad = False
    t.grad = None
    return t


def leaf_var(tensor: Tensor) -> ir.Var:
    """The IR value standing for ``tensor`` in the graph being recorded."""
    if tensor._value is None:
        return tensor._var
    trace = STATE.trace
    if trace is not None:
        return trace.capture(tensor)
    if tensor._var is None:
        tensor._var = ir.Var(tensor._shape, tensor._dtype, origin=tensor)
    return tensor._var


from symgrad import tensor_ops as _ops  # noqa: E402  (tensor_ops needs Tensor defined)
