"""Reverse-mode differentiation over the IR DAG.

Each node's gradient rule is its primitive's ``vjp``: elementwise nodes give
``g * ∂expr/∂input`` from SymPy (rewritten in terms of the node's output where it
reappears, so ``d tanh(u)`` is ``1 - t**2``), structured nodes give IR written in
other primitives.  Contributions to a value used twice are summed.  The flattened
expression tree is never differentiated, so a gradient costs a small constant
times the forward pass.

Example:
    >>> import numpy as np, sympy
    >>> from symgrad import ir
    >>> x = ir.Var((3,), np.dtype('float64'))
    >>> t = ir.elementwise(sympy.tanh(ir.arg(0)), [x])
    >>> g = ir.Var((3,), np.dtype('float64'))
    >>> [dx] = vjp([t], [g], [x])
    >>> dx.producer.formula(["t", "g"])
    g*(1 - t**2)
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy

from symgrad import ir
from symgrad.dtypes import is_floating
from symgrad.ir import scopes


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
    depends = {v for v in wrt if is_floating(v.dtype)}
    for node in nodes:
        if is_floating(node.output.dtype) and any(v in depends for v in node.inputs):
            depends.add(node.output)

    pending: dict[ir.Var, list[ir.Var]] = {}
    for out, ct in zip(outputs, cotangents, strict=True):
        if out in depends:
            pending.setdefault(out, []).append(ct)

    totals: dict[ir.Var, ir.Var] = {}  # the gradient of each wrt value a node made
    targets = set(wrt)
    for node in reversed(nodes):
        terms = pending.pop(node.output, None)
        if not terms:
            continue
        with scopes.within(node.scope):
            total = add_all(terms)
            wanted = [v in depends for v in node.inputs]
            grads = node.primitive.vjp(node, total, wanted)
        if node.output in targets:
            totals[node.output] = total
        for inp, grad in zip(node.inputs, grads, strict=True):
            if grad is not None:
                pending.setdefault(inp, []).append(grad)

    for v in wrt:
        if v not in totals and pending.get(v):
            totals[v] = add_all(pending[v])
    return [totals.get(v) for v in wrt]
