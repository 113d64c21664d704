"""Tensor's operators and methods, attached to the class from the op table and the front end.

:class:`~symgrad.frontend.tensor.Tensor` itself holds data and basic properties;
this module gives it ``+ - * / ** @``, comparisons, the elementwise methods of
every op-table row whose ``api`` lists ``"Tensor"`` (``x.exp()``), and methods that
call the front end's structured ops (``x.sum(dim)``, ``x.reshape(2, 3)``,
``x[1:]``).  Importing :mod:`symgrad.frontend` attaches them.

Example:
    >>> import symgrad as sg
    >>> x = sg.tensor([[1., 2.], [3., 4.]])
    >>> (x * 2 + 1).exp().sum(dim=1).shape, x.T[0], (x @ x).max()
    ((2,), tensor([1., 3.]), tensor(22.))
"""

from __future__ import annotations

from symgrad.frontend import apply, functional, reductions, shape_ops, tensor_api
from symgrad.frontend.apply import elementwise, table_method
from symgrad.frontend.tensor import Tensor
from symgrad.ir.elementwise_ops import OPS

# Operator -> (op-table row, whether the Tensor is the right operand).
OPERATORS = {
    "__add__": ("add", False),
    "__radd__": ("add", True),
    "__sub__": ("sub", False),
    "__rsub__": ("sub", True),
    "__mul__": ("mul", False),
    "__rmul__": ("mul", True),
    "__truediv__": ("div", False),
    "__rtruediv__": ("div", True),
    "__pow__": ("pow", False),
    "__rpow__": ("pow", True),
    "__lt__": ("lt", False),
    "__le__": ("le", False),
    "__gt__": ("gt", False),
    "__ge__": ("ge", False),
    "__eq__": ("eq", False),
    "__ne__": ("ne", False),
    "__neg__": ("neg", False),
    "__abs__": ("abs", False),
}


def _operator(name: str, reflected: bool):
    if reflected:
        return lambda self, other: elementwise(name, other, self)
    return lambda self, *other: elementwise(name, self, *other)


def _max(self: Tensor, dim=None, keepdim: bool = False):
    """The largest value, or ``(values, indices)`` along ``dim``."""
    return reductions.max_or_min(self, "max", dim, keepdim)


def _min(self: Tensor, dim=None, keepdim: bool = False):
    """The smallest value, or ``(values, indices)`` along ``dim``."""
    return reductions.max_or_min(self, "min", dim, keepdim)


def _in_place(update):
    """A method that writes ``update(self, *args)`` into ``self`` (``x.add_(y)``, ``x += y``)."""
    return lambda self, *args, **kwargs: apply.assign(self, update(self, *args, **kwargs))


def _scaled(other, alpha):
    return other if alpha == 1 else other * alpha


def _clone(self: Tensor) -> Tensor:
    """A copy that stays connected to the graph (gradients flow back)."""
    return elementwise("add", self, 0) if self.requires_grad else apply.copy(self)


METHODS = {
    # reductions
    "sum": apply.sum,
    "mean": apply.mean,
    "max": _max,
    "min": _min,
    "amax": reductions.amax,
    "amin": reductions.amin,
    "argmax": reductions.argmax,
    "argmin": reductions.argmin,
    "logsumexp": reductions.logsumexp,
    "var": reductions.var,
    "std": reductions.std,
    # elementwise with arguments
    "clamp": apply.clamp,
    "clip": apply.clamp,
    "softmax": functional.softmax,
    "log_softmax": functional.log_softmax,
    # shapes
    "reshape": shape_ops.reshape,
    "view": shape_ops.reshape,
    "flatten": shape_ops.flatten,
    "transpose": shape_ops.transpose,
    "permute": shape_ops.permute,
    "squeeze": shape_ops.squeeze,
    "unsqueeze": shape_ops.unsqueeze,
    "expand": shape_ops.expand,
    "broadcast_to": shape_ops.broadcast_to,
    "__getitem__": shape_ops.getitem,
    "__setitem__": shape_ops.setitem,
    "__matmul__": shape_ops.matmul,
    "__rmatmul__": lambda self, other: shape_ops.matmul(other, self),
    "__pos__": lambda self: self,
    # in place
    "add_": _in_place(lambda self, other, alpha=1: self + _scaled(other, alpha)),
    "sub_": _in_place(lambda self, other, alpha=1: self - _scaled(other, alpha)),
    "mul_": _in_place(lambda self, other: self * other),
    "div_": _in_place(lambda self, other: self / other),
    "addcmul_": _in_place(lambda self, t1, t2, value=1: self + t1 * t2 * value),
    "addcdiv_": _in_place(lambda self, t1, t2, value=1: self + t1 / t2 * value),
    "lerp_": _in_place(lambda self, end, weight: self + (end - self) * weight),
    "copy_": _in_place(lambda self, src: src),
    "zero_": _in_place(lambda self: 0.0),
    "fill_": _in_place(lambda self, value: value),
    "clamp_": _in_place(apply.clamp),
    "__iadd__": _in_place(lambda self, other: self + other),
    "__isub__": _in_place(lambda self, other: self - other),
    "__imul__": _in_place(lambda self, other: self * other),
    "__itruediv__": _in_place(lambda self, other: self / other),
    # copies (conversions, ``to``, ``t()``, ``split``, ... are in ``tensor_api``)
    "clone": _clone,
}


def attach() -> None:
    """Give :class:`Tensor` its operators and methods (run once, on import)."""
    for method, (row, reflected) in OPERATORS.items():
        setattr(Tensor, method, _operator(row, reflected))
    for name, row in OPS.items():
        if "Tensor" in row.api:
            setattr(Tensor, name, table_method(row))
    for name, fn in METHODS.items():
        setattr(Tensor, name, fn)
    Tensor.T = property(shape_ops.matrix_transpose, doc="All dims reversed (``x.T``).")
    tensor_api.attach()


attach()
