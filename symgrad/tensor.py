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
        "_grad",
        "_shape",
        "_value",
        "_var",
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

    @property
    def grad(self) -> Tensor | None:
        """The accumulated gradient of a leaf (``None`` until a backward reaches it)."""
        grad = self._grad
        if grad is not None and STATE.trace is not None and self._value is not None:
            STATE.trace.reached_through(grad, lambda leaf=self: leaf._grad)
        return grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        trace = STATE.trace
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

    def reciprocal(self) -> Tensor:
        return _ops.elementwise("reciprocal", self)

    def log1p(self) -> Tensor:
        return _ops.elementwise("log1p", self)

    def expm1(self) -> Tensor:
        return _ops.elementwise("expm1", self)

    def sign(self) -> Tensor:
        return _ops.elementwise("sign", self)

    def clamp(self, min=None, max=None) -> Tensor:
        """Limit values to ``[min, max]`` (either may be None); gradient 1 inside and at the
        boundaries, as in PyTorch."""
        out = self
        if min is not None:
            out = _ops.elementwise("clamp_min", out, min)
        if max is not None:
            out = _ops.elementwise("clamp_max", out, max)
        return out

    clip = clamp

    def softmax(self, dim: int) -> Tensor:
        from symgrad.functional import softmax

        return softmax(self, dim)

    def log_softmax(self, dim: int) -> Tensor:
        from symgrad.functional import log_softmax

        return log_softmax(self, dim)

    # --- reductions -------------------------------------------------------------------
    def max(self, dim=None, keepdim: bool = False):
        """The largest value, or ``(values, indices)`` along ``dim``."""
        return _reductions.max_or_min(self, "max", dim, keepdim)

    def min(self, dim=None, keepdim: bool = False):
        """The smallest value, or ``(values, indices)`` along ``dim``."""
        return _reductions.max_or_min(self, "min", dim, keepdim)

    def amax(self, dim=None, keepdim: bool = False) -> Tensor:
        return _reductions.amax(self, dim, keepdim)

    def amin(self, dim=None, keepdim: bool = False) -> Tensor:
        return _reductions.amin(self, dim, keepdim)

    def argmax(self, dim=None, keepdim: bool = False) -> Tensor:
        return _reductions.argmax(self, dim, keepdim)

    def argmin(self, dim=None, keepdim: bool = False) -> Tensor:
        return _reductions.argmin(self, dim, keepdim)

    def logsumexp(self, dim=None, keepdim: bool = False) -> Tensor:
        return _reductions.logsumexp(self, dim, keepdim)

    def var(self, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
        return _reductions.var(self, dim, unbiased, keepdim, correction=correction)

    def std(self, dim=None, unbiased=None, keepdim: bool = False, *, correction=None) -> Tensor:
        return _reductions.std(self, dim, unbiased, keepdim, correction=correction)

    # --- shapes -----------------------------------------------------------------------
    def reshape(self, *shape) -> Tensor:
        return _shape.reshape(self, *shape)

    view = reshape

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        return _shape.flatten(self, start_dim, end_dim)

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        return _shape.transpose(self, dim0, dim1)

    def permute(self, *dims) -> Tensor:
        return _shape.permute(self, *dims)

    @property
    def T(self) -> Tensor:
        return _shape.matrix_transpose(self)

    def squeeze(self, dim=None) -> Tensor:
        return _shape.squeeze(self, dim)

    def unsqueeze(self, dim: int) -> Tensor:
        return _shape.unsqueeze(self, dim)

    def expand(self, *sizes) -> Tensor:
        return _shape.expand(self, *sizes)

    def broadcast_to(self, shape) -> Tensor:
        return _shape.broadcast_to(self, shape)

    def __getitem__(self, index) -> Tensor:
        return _shape.getitem(self, index)

    def __setitem__(self, index, value) -> None:
        _shape.setitem(self, index, value)

    def __matmul__(self, other):
        return _shape.matmul(self, other)

    def __rmatmul__(self, other):
        return _shape.matmul(other, self)

    # --- in place ---------------------------------------------------------------------
    def add_(self, other, alpha=1) -> Tensor:
        return _ops.assign(self, self + (other if alpha == 1 else other * alpha))

    def sub_(self, other, alpha=1) -> Tensor:
        return _ops.assign(self, self - (other if alpha == 1 else other * alpha))

    def mul_(self, other) -> Tensor:
        return _ops.assign(self, self * other)

    def div_(self, other) -> Tensor:
        return _ops.assign(self, self / other)

    def addcmul_(self, tensor1, tensor2, value=1) -> Tensor:
        return _ops.assign(self, self + tensor1 * tensor2 * value)

    def addcdiv_(self, tensor1, tensor2, value=1) -> Tensor:
        return _ops.assign(self, self + tensor1 / tensor2 * value)

    def lerp_(self, end, weight) -> Tensor:
        return _ops.assign(self, self + (end - self) * weight)

    def copy_(self, src) -> Tensor:
        return _ops.assign(self, src)

    def zero_(self) -> Tensor:
        return _ops.assign(self, 0.0)

    def fill_(self, value) -> Tensor:
        return _ops.assign(self, value)

    def clamp_(self, min=None, max=None) -> Tensor:
        return _ops.assign(self, self.clamp(min, max))

    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    def clone(self) -> Tensor:
        """A copy that stays connected to the graph (gradients flow back)."""
        return _ops.elementwise("add", self, 0) if self.requires_grad else _ops.copy(self)

    # --- dtypes -----------------------------------------------------------------------
    def to(self, dtype) -> Tensor:
        """A copy converted to ``dtype`` (``sg.float32``, ``sg.float64``, ``sg.int64``)."""
        return _ops.cast(self, dtype)

    def float(self) -> Tensor:
        return _ops.cast(self, np.float32)

    def double(self) -> Tensor:
        return _ops.cast(self, np.float64)

    def long(self) -> Tensor:
        return _ops.cast(self, np.int64)


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


from symgrad import reductions as _reductions  # noqa: E402  (these modules need Tensor)
from symgrad import shape_ops as _shape  # noqa: E402
from symgrad import tensor_ops as _ops  # noqa: E402
