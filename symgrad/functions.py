"""Module-level math functions, as in ``torch``: ``sg.exp(x)``, ``sg.where(c, a, b)``, ...

Each accepts Tensors, NumPy arrays, lists and (where it makes sense) Python numbers.

Example:
    >>> import symgrad as sg
    >>> sg.maximum(sg.tensor([1., 5.]), 2.0)
    tensor([2., 5.])
"""

from __future__ import annotations

from symgrad import tensor_ops
from symgrad.tensor import Tensor
from symgrad.tensor_ops import as_tensor, elementwise


def _unary(name: str):
    def fn(x) -> Tensor:
        return elementwise(name, as_tensor(x))

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise ``{name}``: ``sg.{name}(x)`` is ``x.{name}()``."
    return fn


exp = _unary("exp")
log = _unary("log")
sqrt = _unary("sqrt")
abs = _unary("abs")
sin = _unary("sin")
cos = _unary("cos")
tanh = _unary("tanh")
sigmoid = _unary("sigmoid")
relu = _unary("relu")


def _binary_operand(x):
    return x if isinstance(x, int | float) else as_tensor(x)


def maximum(a, b) -> Tensor:
    """Elementwise maximum; at ties the gradient is split evenly (as in PyTorch)."""
    return elementwise("maximum", _binary_operand(a), _binary_operand(b))


def minimum(a, b) -> Tensor:
    """Elementwise minimum; at ties the gradient is split evenly (as in PyTorch)."""
    return elementwise("minimum", _binary_operand(a), _binary_operand(b))


def where(condition, a, b) -> Tensor:
    """``a`` where ``condition`` is true, else ``b``, with broadcasting.

    >>> import symgrad as sg
    >>> x = sg.tensor([-1., 2.])
    >>> sg.where(x > 0, x, 0.0)
    tensor([0., 2.])
    """
    return elementwise("where", as_tensor(condition), _binary_operand(a), _binary_operand(b))


def sum(x, dim=None, keepdim: bool = False) -> Tensor:
    """Sum over ``dim`` (int, tuple, or all), like ``torch.sum``."""
    return tensor_ops.sum(as_tensor(x), dim, keepdim)


def mean(x, dim=None, keepdim: bool = False) -> Tensor:
    """Mean over ``dim`` (int, tuple, or all), like ``torch.mean``."""
    return tensor_ops.mean(as_tensor(x), dim, keepdim)
