"""Reverse-mode differentiation over the IR DAG.

Each elementwise node contributes ``g * ∂expr/∂input`` where the local
partial is ``sympy.diff`` of that node's own expression, rewritten in terms
of the node's output where it reappears (``d tanh(u)`` is ``1 - t**2``).
Structured nodes use the rules in :data:`VJP_RULES`.  The flattened
expression tree is never differentiated, so a gradient costs a small constant
times the forward pass.

Example:
    >>> import numpy as np
    >>> from symgrad import ir
    >>> x = ir.Var((3,), np.dtype('float64'))
    >>> t = ir.elementwise(sympy.tanh(ir.arg(0)), [x])
    >>> g = ir.Var((3,), np.dtype('float64'))
    >>> [dx] = vjp([t], [g], [x])
    >>> dx.producer.formula(["t", "g"])
    g*(1 - t**2)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache

import sympy

from symgrad import ir
from symgrad.dtypes import is_floating
from symgrad.ops import indexing, linalg, structured


@lru_cache(maxsize=4096)
def local_partials(expr: sympy.Expr, n_inputs: int) -> tuple[sympy.Expr, ...]:
    """``∂expr/∂_i`` for each input, with the output placeholder ``_n`` put in for ``expr``.

    The output is ``arg(n_inputs)``; the upstream gradient will be ``arg(n_inputs + 1)``.
    """
    out = ir.arg(n_inputs)
    partials = []
    for i in range(n_inputs):
        d = sympy.diff(expr, ir.arg(i))
        if d != 0 and not (expr.is_Symbol or expr.is_Number):
            d = d.subs(expr, out)
        partials.append(d)
    return tuple(partials)


def make_elementwise(expr: sympy.Expr, inputs: Sequence[ir.Var], shape, dtype) -> ir.Var:
    """An elementwise node over only the inputs ``expr`` uses, renumbered in order."""
    used = sorted(int(s.name[1:]) for s in expr.free_symbols if s.name.startswith("_"))
    kept: list[ir.Var] = []
    mapping = {}
    for i in used:
        var = inputs[i]
        if var in kept:
            mapping[ir.arg(i)] = ir.arg(kept.index(var))
        else:
            mapping[ir.arg(i)] = ir.arg(len(kept))
            kept.append(var)
    return ir.elementwise(expr.xreplace(mapping), kept, shape=shape, dtype=dtype)


def _vjp_elementwise(node: ir.Node, g: ir.Var, wanted: Sequence[bool]) -> list[ir.Var | None]:
    n = len(node.inputs)
    if "stop_gradient" in node.params:
        return [None] * n
    partials = local_partials(node.expr, n)
    operands = (*node.inputs, node.output, g)
    grads: list[ir.Var | None] = []
    for inp, partial, want in zip(node.inputs, partials, wanted, strict=True):
        if not want or partial == 0:
            grads.append(None)
            continue
        contribution = make_elementwise(
            ir.arg(n + 1) * partial, operands, node.output.shape, inp.dtype
        )
        grads.append(structured.unbroadcast(contribution, inp.shape))
    return grads


def _vjp_sum(node: ir.Node, g: ir.Var, wanted: Sequence[bool]) -> list[ir.Var | None]:
    axes, keepdim = node.params
    return [structured.expand_reduced(g, node.inputs[0].shape, axes, keepdim)]


def _vjp_reshape(node: ir.Node, g: ir.Var, wanted: Sequence[bool]) -> list[ir.Var | None]:
    return [structured.reshape(g, node.inputs[0].shape)]


def _vjp_extreme(node: ir.Node, g: ir.Var, wanted: Sequence[bool]) -> list[ir.Var | None]:
    # max/min: the gradient is split evenly among the tied extremes (as PyTorch's amax).
    x = node.inputs[0]
    axes, keepdim = node.params
    best = structured.expand_reduced(node.output, x.shape, axes, keepdim)
    mask = ir.elementwise(
        sympy.Piecewise((1, sympy.Eq(ir.arg(0), ir.arg(1))), (0, True)), [x, best], dtype=x.dtype
    )
    count = structured.reduce_sum(mask, axes, keepdim=True)
    spread = structured.expand_reduced(g, x.shape, axes, keepdim)
    share = ir.arg(0) * ir.arg(1) / ir.arg(2)
    return [ir.elementwise(share, [spread, mask, count], shape=x.shape, dtype=x.dtype)]


def _swap_last(x: ir.Var) -> ir.Var:
    axes = (*range(x.ndim - 2), x.ndim - 1, x.ndim - 2)
    return structured.permute(x, axes)


def _vjp_matmul(node: ir.Node, g: ir.Var, wanted: Sequence[bool]) -> list[ir.Var | None]:
    a, b = node.inputs
    grad_a = linalg.matmul(g, _swap_last(b)) if wanted[0] else None
    grad_b = linalg.matmul(_swap_last(a), g) if wanted[1] else None
    return [
        structured.unbroadcast(grad, var.shape) if grad is not None else None
        for grad, var in ((grad_a, a), (grad_b, b))
    ]


def _vjp_permute(node: ir.Node, g: ir.Var, wanted: Sequence[bool]) -> list[ir.Var | None]:
    (axes,) = node.params
    return [structured.permute(g, structured.inverse_permutation(axes))]


def _vjp_gather(node: ir.Node, g: ir.Var, wanted: Sequence[bool]) -> list[ir.Var | None]:
    x, *arrays = node.inputs
    return [indexing.scatter_add(g, arrays, node.params, x.shape)] + [None] * len(arrays)


def _vjp_scatter_add(node: ir.Node, g: ir.Var, wanted: Sequence[bool]) -> list[ir.Var | None]:
    source, *arrays = node.inputs
    params = node.params[:3]
    back = ir.structured("gather", [g, *arrays], source.shape, g.dtype, params=params)
    return [back] + [None] * len(arrays)


def _vjp_concat(node: ir.Node, g: ir.Var, wanted: Sequence[bool]) -> list[ir.Var | None]:
    (dim,) = node.params
    grads, offset = [], 0
    for x, want in zip(node.inputs, wanted, strict=True):
        sources = tuple(("slice", offset if d == dim else 0, 1, d) for d in range(x.ndim))
        if want:
            grads.append(ir.structured("gather", [g], x.shape, g.dtype, params=(sources, 0, 0)))
        else:
            grads.append(None)
        offset += x.shape[dim]
    return grads


VjpRule = Callable[[ir.Node, ir.Var, Sequence[bool]], list]

VJP_RULES: dict[str, VjpRule] = {
    "elementwise": _vjp_elementwise,
    "sum": _vjp_sum,
    "reshape": _vjp_reshape,
    "max": _vjp_extreme,
    "min": _vjp_extreme,
    "matmul": _vjp_matmul,
    "permute": _vjp_permute,
    "gather": _vjp_gather,
    "scatter_add": _vjp_scatter_add,
    "concat": _vjp_concat,
}


def add_all(terms: list[ir.Var]) -> ir.Var:
    """The sum of same-shaped gradient contributions (one node)."""
    if len(terms) == 1:
        return terms[0]
    expr = sympy.Add(*(ir.arg(i) for i in range(len(terms))))
    return ir.elementwise(expr, terms, shape=terms[0].shape, dtype=terms[0].dtype)


def vjp(
    outputs: Sequence[ir.Var], cotangents: Sequence[ir.Var], wrt: Sequence[ir.Var]
) -> list[ir.Var | None]:
    """Gradients of ``sum(output * cotangent)`` with respect to each of ``wrt``.

    Returns one Var per ``wrt`` entry, or ``None`` where the outputs do not depend on it.
    """
    nodes, _ = ir.toposort(outputs)
    depends = {id(v) for v in wrt if is_floating(v.dtype)}
    for node in nodes:
        if is_floating(node.output.dtype) and any(id(v) in depends for v in node.inputs):
            depends.add(id(node.output))

    pending: dict[int, list[ir.Var]] = {}
    for out, ct in zip(outputs, cotangents, strict=True):
        if id(out) in depends:
            pending.setdefault(id(out), []).append(ct)

    for node in reversed(nodes):
        terms = pending.pop(id(node.output), None)
        if not terms:
            continue
        rule = VJP_RULES.get(node.op)
        if rule is None:
            from symgrad.errors import UnsupportedOpError

            raise UnsupportedOpError(f"no gradient rule for op {node.op!r}")
        wanted = [id(v) in depends for v in node.inputs]
        for inp, grad in zip(node.inputs, rule(node, add_all(terms), wanted), strict=True):
            if grad is not None:
                pending.setdefault(id(inp), []).append(grad)

    return [add_all(pending[id(v)]) if pending.get(id(v)) else None for v in wrt]
