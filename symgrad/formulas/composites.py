"""Softmax, log-softmax and standardization as named functions in formulas.

The tensor code computes ``softmax`` from ``max``, ``exp``, ``sum`` and a division
(``log_softmax`` and the ``(z - mean)/sqrt(var + eps)`` of layer and batch norm
likewise), and the kernels keep it that way.  A formula built from those pieces
shows ``exp(z - max(z, axis=1))/sum(exp(...), axis=1)`` and a gradient full of them.
Before differentiating for formulas, :func:`recognize` replaces each such group of
nodes by one named node whose gradient is written in terms of the function itself,
as a textbook writes it (``s = softmax(z)``, ``u = standardize(z)``, means and sums
over the function's axis, ``n`` the number of entries they cover)::

    ∂/∂z sum(g⊙s) = s⊙(g - sum(g⊙s))
    ∂/∂z sum(g⊙log_softmax(z)) = g - sum(g)⊙s
    ∂/∂z sum(g⊙u) = (g - sum(g)/n - u⊙sum(g⊙u)/n)/sqrt(var(z) + eps)

These primitives are ``formula_only``: they live only in the graphs formulas are
read from (evaluated with NumPy there); no kernel is ever generated for them.

Example:
    >>> import symgrad as sg
    >>> from symgrad.formulas import formulas
    >>> f = formulas(lambda z: sg.log_softmax(z, dim=0).sum(), sg.zeros(3))
    >>> print(f)
    ∂f/∂z = 1 - 3*softmax(z)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy

from symgrad import ir
from symgrad.errors import UnsupportedOpError
from symgrad.ir import arg
from symgrad.ir.graph import Node, Var
from symgrad.ir.primitive import Primitive, Schedule, register
from symgrad.ir.primitives.core import STOP_GRADIENT, elementwise, reduce_sum
from symgrad.ir.shapes import Shape, reduced_shape


@dataclass(frozen=True)
class AxisParams:
    """The dim the function normalises along (non-negative)."""

    axis: int


@dataclass(frozen=True)
class NormParams:
    """The dims the mean and the (biased) variance are taken over, and the ``eps`` added
    to the variance."""

    axes: tuple[int, ...]
    eps: float


class _Composite(Primitive):
    """A function of one tensor along one axis, shown by name in formulas."""

    schedule = Schedule.INDEX_LOOP  # opaque to fusion: it stays one named node
    formula_only = True

    def shape_rule(self, params: AxisParams, x: Any) -> tuple[Shape, np.dtype]:
        return tuple(x.shape), x.dtype

    def emit(self, w: Any, node: Node) -> None:
        raise UnsupportedOpError(
            f"{self.name} is a formula-only node; kernels compute it from max, exp and sum"
        )

    def bind(self, inputs: Sequence[Var], params: AxisParams) -> Var:
        (x,) = inputs
        return Node(self, [x], x.shape, x.dtype, params=params).output


def _softmax(x: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


class Softmax(_Composite):
    """``exp(z)/sum(exp(z), axis)``, computed with the maximum taken out."""

    name = "softmax"

    def evaluate(self, params: AxisParams, x: np.ndarray) -> np.ndarray:
        return _softmax(x, params.axis)

    def vjp(self, node: Node, g: Var, wanted: Sequence[bool]) -> list[Var | None]:
        p = node.output
        dot = reduce_sum(elementwise(arg(0) * arg(1), [g, p]), (node.params.axis,), True)
        return [elementwise(arg(1) * (arg(0) - arg(2)), [g, p, dot], shape=p.shape)]


class LogSoftmax(_Composite):
    """``z - log(sum(exp(z), axis))``, computed with the maximum taken out."""

    name = "log_softmax"

    def evaluate(self, params: AxisParams, x: np.ndarray) -> np.ndarray:
        shifted = x - np.max(x, axis=params.axis, keepdims=True)
        return shifted - np.log(np.sum(np.exp(shifted), axis=params.axis, keepdims=True))

    def vjp(self, node: Node, g: Var, wanted: Sequence[bool]) -> list[Var | None]:
        (z,) = node.inputs
        total = reduce_sum(g, (node.params.axis,), True)
        probabilities = SOFTMAX.bind([z], node.params)
        return [elementwise(arg(0) - arg(1) * arg(2), [g, total, probabilities], shape=z.shape)]


def _count(shape: Shape, axes: tuple[int, ...]) -> int:
    return math.prod(shape[a] for a in axes)


class Variance(_Composite):
    """The biased variance over ``axes`` (kept as dims of size 1), as ``np.var``."""

    name = "var"

    def shape_rule(self, params: NormParams, x: Any) -> tuple[Shape, np.dtype]:
        return reduced_shape(tuple(x.shape), params.axes, keepdim=True), x.dtype

    def evaluate(self, params: NormParams, x: np.ndarray) -> np.ndarray:
        return np.var(x, axis=params.axes, keepdims=True)

    def bind(self, inputs: Sequence[Var], params: NormParams) -> Var:
        (x,) = inputs
        shape, dtype = self.shape_rule(params, x)
        return Node(self, [x], shape, dtype, params=params).output

    def vjp(self, node: Node, g: Var, wanted: Sequence[bool]) -> list[Var | None]:
        (z,) = node.inputs
        n = _count(z.shape, node.params.axes)
        total = reduce_sum(z, node.params.axes, True)
        spread = 2 * arg(0) * (arg(1) - arg(2) / n) / n
        return [elementwise(spread, [g, z, total], shape=z.shape)]


class Standardize(_Composite):
    """``(z - mean(z))/sqrt(var(z) + eps)`` over ``axes``: layer and batch norm before
    their scale and shift."""

    name = "standardize"

    def evaluate(self, params: NormParams, x: np.ndarray) -> np.ndarray:
        centered = x - np.mean(x, axis=params.axes, keepdims=True)
        return centered / np.sqrt(np.var(x, axis=params.axes, keepdims=True) + params.eps)

    def vjp(self, node: Node, g: Var, wanted: Sequence[bool]) -> list[Var | None]:
        (z,) = node.inputs
        u, axes = node.output, node.params.axes
        n = _count(z.shape, axes)
        spread = elementwise(
            sympy.sqrt(arg(0) + node.params.eps), [VARIANCE.bind([z], node.params)]
        )
        total = reduce_sum(g, axes, True)
        along = reduce_sum(elementwise(arg(0) * arg(1), [g, u]), axes, True)
        shifted = (arg(0) - arg(1) / n - arg(2) * arg(3) / n) / arg(4)
        return [elementwise(shifted, [g, total, u, along, spread], shape=z.shape)]


SOFTMAX = register(Softmax())
LOG_SOFTMAX = register(LogSoftmax())
VARIANCE = register(Variance())
STANDARDIZE = register(Standardize())


def _made(var: Var, primitive: Primitive, expr: sympy.Expr | None = None) -> Node | None:
    """``var``'s producer when it applies ``primitive`` (with ``expr``, if elementwise)."""
    node = var.producer
    if node is None or node.primitive is not primitive:
        return None
    if expr is not None and (node.expr != expr or node.params != ir.PLAIN):
        return None
    return node


def _shifted(var: Var) -> tuple[Var, int] | None:
    """``(z, axis)`` when ``var`` is ``z - max(z, axis, keepdim).detach()``."""
    node = _made(var, ir.ELEMENTWISE, arg(0) - arg(1))
    if node is None:
        return None
    z, peak = node.inputs
    stop = peak.producer
    if stop is None or stop.params != STOP_GRADIENT or stop.expr != arg(0):
        return None
    best = _made(stop.inputs[0], ir.MAX)
    if best is None or best.inputs[0] is not z or not best.params.keepdim:
        return None
    if len(best.params.axes) != 1:
        return None
    return z, best.params.axes[0]


def _total(var: Var, axis: int) -> Var | None:
    """``s`` when ``var`` is ``sum(exp(s), axis, keepdim)``; else None."""
    total = _made(var, ir.SUM)
    if total is None or total.params.axes != (axis,) or not total.params.keepdim:
        return None
    exp = _made(total.inputs[0], ir.ELEMENTWISE, sympy.exp(arg(0)))
    return None if exp is None else exp.inputs[0]


def _mean(var: Var) -> tuple[Var, tuple[int, ...]] | None:
    """``(x, axes)`` when ``var`` is ``sum(x, axes, keepdim)/n``, ``n`` their entry count."""
    node = var.producer
    if node is None or node.primitive is not ir.ELEMENTWISE or node.params != ir.PLAIN:
        return None
    total = _made(node.inputs[0], ir.SUM)
    if total is None or not total.params.keepdim:
        return None
    x, axes = total.inputs[0], total.params.axes
    return (x, axes) if node.expr == arg(0) / _count(x.shape, axes) else None


def _centered(var: Var) -> tuple[Var, tuple[int, ...]] | None:
    """``(z, axes)`` when ``var`` is ``z - mean(z, axes)``."""
    node = _made(var, ir.ELEMENTWISE, arg(0) - arg(1))
    if node is None:
        return None
    z, mean = node.inputs
    found = _mean(mean)
    return found if found is not None and found[0] is z else None


def _deviation(var: Var, centered: Var, axes: tuple[int, ...]) -> float | None:
    """``eps`` when ``var`` is ``sqrt(mean(centered**2, axes) + eps)``."""
    root = _made(var, ir.ELEMENTWISE, sympy.sqrt(arg(0)))
    shifted = root and root.inputs[0].producer
    if not shifted or shifted.primitive is not ir.ELEMENTWISE or shifted.params != ir.PLAIN:
        return None
    eps = shifted.expr - arg(0)
    if not (eps.is_Number and eps >= 0 and len(shifted.inputs) == 1):
        return None
    found = _mean(shifted.inputs[0])
    if found is None or found[1] != axes:
        return None
    square = found[0].producer
    if square is None or square.primitive is not ir.ELEMENTWISE or square.params != ir.PLAIN:
        return None
    squares = {arg(0) * arg(1): (centered, centered), arg(0) ** 2: (centered,)}
    return float(eps) if squares.get(square.expr) == square.inputs else None


def _match(node: Node) -> tuple[Primitive, Var, Any] | None:
    """What ``node`` computes, when it is the last node of a softmax, a log-softmax or a
    standardization."""
    if node.primitive is not ir.ELEMENTWISE or node.params != ir.PLAIN:
        return None
    if node.expr == arg(0) / arg(1):
        numerator, denominator = node.inputs
        exp = _made(numerator, ir.ELEMENTWISE, sympy.exp(arg(0)))
        found = exp and _shifted(exp.inputs[0])
        if found and _total(denominator, found[1]) is exp.inputs[0]:  # exp(s)/sum(exp(s))
            z, axis = found
            return SOFTMAX, z, AxisParams(axis)
        centered = _centered(numerator)  # (z - mean)/sqrt(var + eps)
        eps = centered and _deviation(denominator, numerator, centered[1])
        if eps is not None and centered:
            z, axes = centered
            return STANDARDIZE, z, NormParams(tuple(axes), eps)
    if node.expr == arg(0) - arg(1):  # s - log(sum(exp(s)))
        shifted, log = node.inputs
        found = _shifted(shifted)
        log_node = _made(log, ir.ELEMENTWISE, sympy.log(arg(0)))
        if found and log_node and _total(log_node.inputs[0], found[1]) is shifted:
            z, axis = found
            return LOG_SOFTMAX, z, AxisParams(axis)
    return None


def recognize(graph: ir.Graph) -> ir.Graph:
    """``graph`` (a traced graph, before fusion) with each softmax, log-softmax and
    standardization made one named node; rewrites ``graph`` in place (pass a clone)."""
    changed = False
    for node in graph.nodes:
        found = _match(node)
        if found is None:
            continue
        primitive, z, params = found
        node.primitive, node.inputs, node.params, node.expr = primitive, (z,), params, None
        node.rewritten()
        changed = True
    return graph.rebuild() if changed else graph
