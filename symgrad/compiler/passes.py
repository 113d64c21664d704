"""Graph rewrites: elementwise fusion, common-subexpression elimination, dead-code elimination.

Passes rewrite a graph they own in place (clone a graph first with
:meth:`symgrad.ir.Graph.clone`) and return the rebuilt graph.  Constants fold
as a side effect of fusion: a node with no inputs is cheap, so it is inlined
into its consumers, where SymPy evaluates the arithmetic.

They run twice: :func:`prepare_forward` before autodiff (so the gradient is
derived on merged, fused work), :func:`optimize` on the forward-and-gradient
graph that goes to the code generator.

Example:
    >>> import numpy as np, sympy
    >>> from symgrad import ir
    >>> a, b = ir.Var((2,), np.dtype('float64')), ir.Var((2,), np.dtype('float64'))
    >>> cube = ir.elementwise(ir.arg(0) ** 3, [a])
    >>> q = ir.elementwise(3 * ir.arg(0) - ir.arg(1) ** 2, [cube, b])
    >>> print(optimize(ir.Graph([a, b], [q])).pretty(["a", "b"]))
    { lambda a:f64[2] b:f64[2] .
      let t0:f64[2] = 3*a**3 - b**2
      in (t0) }
"""

from __future__ import annotations

from collections import Counter

import sympy

from symgrad import ir


def is_cheap(expr: sympy.Expr) -> bool:
    """True for rational arithmetic (``+ - *`` and integer powers): safe to inline anywhere.

    Inlining only cheap producers keeps each node to one nonlinear function, so
    its derivative can be written in terms of its own output.
    """
    for sub in sympy.preorder_traversal(expr):
        if sub.is_Symbol or sub.is_Number or sub.is_Add or sub.is_Mul:
            continue
        if sub.is_Pow and sub.exp.is_Integer:
            continue
        return False
    return True


def _inlinable(expr: sympy.Expr, consumers: int) -> bool:
    # A cheap node is inlined into its only consumer; a single operation (``x - m``)
    # into every consumer too: recomputing it costs less than storing and reloading it.
    return is_cheap(expr) and (consumers == 1 or sympy.count_ops(expr) <= 1)


def fuse_elementwise(graph: ir.Graph) -> ir.Graph:
    """Inline cheap elementwise nodes into their elementwise consumers.

    A constant, a plain copy (broadcast) or a single operation is inlined into every
    consumer; other cheap nodes only into a sole consumer, so little work is repeated.
    """
    protected = set(graph.inputs) | set(graph.outputs)
    consumers: Counter[ir.Var] = Counter()
    for node in graph.nodes:
        consumers.update(set(node.inputs))

    for node in graph.nodes:
        if node.primitive is not ir.ELEMENTWISE:
            continue
        new_inputs: list[ir.Var] = []

        def ref(var: ir.Var, new_inputs=new_inputs) -> sympy.Symbol:
            for k, seen in enumerate(new_inputs):
                if seen is var:
                    return ir.arg(k)
            new_inputs.append(var)
            return ir.arg(len(new_inputs) - 1)

        mapping = {}
        for i, var in enumerate(node.inputs):
            producer = var.producer
            if (
                producer is not None
                and producer.primitive is ir.ELEMENTWISE
                and producer.params == ir.PLAIN  # a gradient stop stays until autodiff is done
                and var not in protected
                and (producer.expr.is_Atom or _inlinable(producer.expr, consumers[var]))
            ):
                inner = {ir.arg(j): ref(v) for j, v in enumerate(producer.inputs)}
                mapping[ir.arg(i)] = producer.expr.xreplace(inner)
            else:
                mapping[ir.arg(i)] = ref(var)
        node.expr = node.expr.xreplace(mapping)
        node.inputs = tuple(new_inputs)
        node.rewritten()
    return graph.rebuild()


def eliminate_common(graph: ir.Graph) -> ir.Graph:
    """Merge nodes with the same structure and the same inputs (hash-consing)."""
    representative: dict[ir.Var, ir.Var] = {}
    table: dict[tuple, ir.Var] = {}
    for node in graph.nodes:
        node.inputs = tuple(representative.get(v, v) for v in node.inputs)
        node.rewritten()
        first = table.setdefault((node.key, node.inputs), node.output)
        if first is not node.output:
            representative[node.output] = first
    graph.outputs = [representative.get(v, v) for v in graph.outputs]
    return graph.rebuild()


def prepare_forward(graph: ir.Graph) -> ir.Graph:
    """The forward graph autodiff works on: repeated work merged, then cheap work fused."""
    return fuse_elementwise(eliminate_common(graph))


def drop_gradient_stops(graph: ir.Graph) -> ir.Graph:
    """After autodiff, gradient stops are plain copies (and may fuse away)."""
    for node in graph.nodes:
        if node.params == ir.STOP_GRADIENT and node.expr.is_Atom:
            node.params = ir.PLAIN
            node.rewritten()
    return graph


def optimize(graph: ir.Graph) -> ir.Graph:
    """CSE, fusion, CSE again; dead nodes drop out as each pass rebuilds the graph.

    The first CSE merges repeated work so that fusion sees its true consumers.
    """
    return eliminate_common(fuse_elementwise(eliminate_common(drop_gradient_stops(graph))))
