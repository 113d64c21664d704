"""Graph rewrites: elementwise fusion, common-subexpression elimination, dead-code elimination,
transposed products.

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


def merge_slice_adds(graph: ir.Graph) -> ir.Graph:
    """A sum of ``slice_add`` terms of one shape becomes one ``slice_add`` of all their inputs.

    The gradient of ``x[1:]`` and ``x[:-1]`` is then one node that adds both into one
    zeroed array, in the loop that computes them, instead of two arrays and a sum.
    Only terms of a plain sum (``_0 + _1 + ...``) that nothing else reads are merged.
    """
    consumers: Counter[ir.Var] = Counter()
    for node in graph.nodes:
        consumers.update(node.inputs)
    consumers.update(graph.outputs)
    for node in graph.nodes:
        if node.primitive is not ir.ELEMENTWISE or node.params != ir.PLAIN:
            continue
        args = [ir.arg(i) for i in range(len(node.inputs))]
        if node.expr != sympy.Add(*args) or len(set(node.inputs)) != len(node.inputs):
            continue
        groups: dict[tuple, list[int]] = {}
        for i, var in enumerate(node.inputs):
            p = var.producer
            if (
                p is not None
                and p.primitive is ir.SLICE_ADD
                and consumers[var] == 1
                and var.shape == node.output.shape
                and var.dtype == node.output.dtype
            ):
                groups.setdefault((p.inputs[0].shape, p.inputs[0].dtype), []).append(i)
        merged = {i: group for group in groups.values() if len(group) > 1 for i in group}
        if not merged:
            continue
        inputs, done = [], set()
        for i, var in enumerate(node.inputs):
            if i not in merged:
                inputs.append(var)
            elif i not in done:
                producers = [node.inputs[j].producer for j in merged[i]]
                done.update(merged[i])
                gs = [g for p in producers for g in p.inputs]
                regions = [r for p in producers for r in p.params.regions]
                inputs.append(ir.slice_add(gs, regions, node.output.shape))
        if len(inputs) == 1:  # the whole sum is one slice_add: the node becomes it
            (only,) = inputs
            node.primitive, node.inputs, node.params = (
                ir.SLICE_ADD,
                only.producer.inputs,
                only.producer.params,
            )
            node.expr = None
        else:
            node.inputs = tuple(inputs)
            node.expr = sympy.Add(*(ir.arg(i) for i in range(len(inputs))))
        node.rewritten()
    return graph.rebuild()


def _is_matrix_transpose(var: ir.Var) -> bool:
    producer = var.producer
    return producer is not None and producer.primitive is ir.PERMUTE and var.ndim == 2


def _transposed(var: ir.Var, like: ir.Node) -> ir.Var:
    """``var.T``: what a transpose views, else a new transpose placed where ``like`` is."""
    if _is_matrix_transpose(var):
        return var.producer.inputs[0]
    view = ir.permute(var, (1, 0))
    view.producer.scope, view.producer.serial = like.scope, like.serial
    return view


def transpose_products(graph: ir.Graph) -> ir.Graph:
    """A matrix product read only through its transpose, ``(a @ b).T``, becomes
    ``b.T @ a.T``: BLAS writes the transposed result, with no transposed copy.

    A weight's gradient is such a product (``(x.T @ g).T``), copied into ``.grad`` and
    read transposed by the optimizer; it is now ``g.T @ x``.
    """
    readers: dict[ir.Var, list[ir.Node]] = {}
    for node in graph.nodes:
        for var in set(node.inputs):
            readers.setdefault(var, []).append(node)
    outputs = set(graph.outputs)
    representative: dict[ir.Var, ir.Var] = {}
    for node in list(graph.nodes):
        product = node.output
        users = readers.get(product, [])
        if (
            node.primitive is not ir.MATMUL
            or product in outputs
            or not users
            or any(v.ndim != 2 for v in (*node.inputs, product))
            or not all(_is_matrix_transpose(user.output) for user in users)
        ):
            continue
        a, b = node.inputs
        node.inputs = (_transposed(b, node), _transposed(a, node))
        product.shape = product.shape[::-1]
        node.rewritten()
        representative.update({user.output: product for user in users})
    for node in graph.nodes:
        node.inputs = tuple(representative.get(v, v) for v in node.inputs)
        node.rewritten()
    graph.outputs = [representative.get(v, v) for v in graph.outputs]
    return graph.rebuild()


def optimize(graph: ir.Graph) -> ir.Graph:
    """CSE, fusion, CSE again; dead nodes drop out as each pass rebuilds the graph.

    The first CSE merges repeated work so that fusion sees its true consumers; summed
    slice gradients merge before fusion, so what is left of their sum can fuse.
    Transposed products are turned around last (their new transposes merged by CSE).
    """
    graph = merge_slice_adds(eliminate_common(drop_gradient_stops(graph)))
    graph = eliminate_common(fuse_elementwise(graph))
    return eliminate_common(transpose_products(graph))
