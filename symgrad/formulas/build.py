"""From the gradient graph to formulas: one term per node, shared work named once.

Each node of the graph the gradient kernels are built from gets its term
(:func:`~symgrad.formulas.display.node_term`) over its inputs' terms.  A node
whose term is more than a few operations and that is used more than once, or
whose term is long, is given a name (``t1`` for a forward value, ``g1`` for a
gradient value) and printed once in a ``where`` list, as a textbook would: the
formulas grow like the graph, never like the tree it unfolds to.

Example:
    >>> import symgrad as sg
    >>> from symgrad.formulas import formulas
    >>> f = formulas(lambda x, y: sg.exp(x * y - sg.sin(x)))
    >>> print(f)
    ∂f/∂x = t1*(y - cos(x))
    ∂f/∂y = t1*x
    where
      t1 = exp(x*y - sin(x))
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import sympy

from symgrad import ir
from symgrad.compiler import passes
from symgrad.formulas import notes as kinks
from symgrad.formulas.display import node_term
from symgrad.formulas.terms import (
    MatOp,
    Op,
    broadcast,
    is_boolean,
    is_matrix_rank,
    leaf,
    matrix_shape,
    size,
    walk,
)

#: A value used more than once is named when its term has more than this many operations
#: (a forward value, a gradient value)...
SHARED_SIZE = {"t": 3, "g": 6}
#: ...and any value whose term has more than this many, unless it is a formula itself.
LONG_SIZE = 30
#: Named functions given a name of their own when used more than once, whatever their size.
NAMED = ("softmax", "log_softmax", "standardize")


@dataclass
class Derivation:
    """Formula terms for each argument, the named intermediates they use (in order), and
    the notes on points where the function is not differentiable."""

    derivatives: dict[str, sympy.Basic]
    definitions: list[tuple[sympy.Basic, sympy.Basic]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def zero(shape: tuple) -> sympy.Basic:
    """The term of a gradient that is zero everywhere."""
    if is_matrix_rank(shape):
        return sympy.ZeroMatrix(*matrix_shape(shape))
    return sympy.Integer(0)


def upstream_term(shape: tuple) -> sympy.Basic:
    """All ones: a formula is the gradient of the sum of the function's entries."""
    return broadcast(sympy.Integer(1), (), shape)


class _Names:
    def __init__(self, taken: Sequence[str]):
        self.taken = set(taken)
        self.counts: Counter[str] = Counter()

    def fresh(self, prefix: str) -> str:
        while True:
            self.counts[prefix] += 1
            name = f"{prefix}{self.counts[prefix]}"
            if name not in self.taken:
                self.taken.add(name)
                return name


def derive(
    grads: Sequence[ir.Var | None],
    labels: dict[ir.Var, str],
    wrt_names: Sequence[str],
    upstream: ir.Var,
    forward: ir.Graph,
    wrt: Sequence[ir.Var],
) -> Derivation:
    """Formulas for ``grads`` (one per name in ``wrt_names``) over the labelled leaves.

    ``upstream`` is the gradient seed (all ones), ``forward`` the graph that was
    differentiated and ``wrt`` its inputs the gradients are taken by (for the notes).
    """
    present = [g for g in grads if g is not None]
    # Repeated work (the same gradient term for each input of a node) is merged first,
    # on a copy whose Vars remember the originals.
    graph = ir.Graph([*forward.inputs, upstream], present)
    graph = passes.eliminate_common(graph.clone(origin=lambda v: v, values=False))
    copies = dict(zip(present, graph.outputs, strict=True))
    outputs = set(graph.outputs)
    nodes = graph.nodes
    consumers: Counter[ir.Var] = Counter()
    for node in nodes:
        consumers.update(set(node.inputs))
    forward_values = {n.output for n in forward.nodes}
    terms: dict[ir.Var, sympy.Basic] = {}
    for v in graph.inputs:
        terms[v] = (
            upstream_term(v.shape) if v.origin is upstream else leaf(labels[v.origin], v.shape)
        )
    names = _Names([*labels.values()])
    derivation = Derivation({})
    for node in nodes:
        out = node.output
        if out in terms:
            continue
        term = node_term(node, [terms[v] for v in node.inputs])
        prefix = "t" if out.origin in forward_values else "g"
        if _worth_naming(term, consumers[out], prefix, out in outputs):
            symbol = leaf(names.fresh(prefix), out.shape)
            derivation.definitions.append((symbol, term))
            terms[out] = symbol
            continue
        terms[out] = term
    for name, var, g in zip(wrt_names, wrt, grads, strict=True):
        derivation.derivatives[name] = zero(var.shape) if g is None else terms[copies[g]]
    derivation.definitions = used_definitions(derivation)
    known = {v.origin: t for v, t in terms.items() if v.origin is not upstream}
    derivation.notes = kinks.collect(forward, wrt, known, labels)
    return derivation


def _worth_naming(term: sympy.Basic, uses: int, prefix: str, is_output: bool) -> bool:
    if is_output:
        return False
    if uses > 1 and isinstance(term, Op | MatOp) and term.info.name in NAMED:
        return True  # softmax(z) used twice reads better as t1 than spelled out twice
    if is_boolean(term) or term.is_Atom or isinstance(term, sympy.MatrixSymbol):
        return False
    n = size(term, LONG_SIZE + 1)
    return n > LONG_SIZE or (uses > 1 and n > SHARED_SIZE[prefix])


def used_definitions(derivation: Derivation) -> list[tuple[sympy.Basic, sympy.Basic]]:
    """The definitions the formulas need, directly or through other definitions."""
    defined = dict(derivation.definitions)
    needed: set[sympy.Basic] = set()
    stack = list(derivation.derivatives.values())
    while stack:
        term = stack.pop()
        for sub in walk(term):
            if sub in defined and sub not in needed:
                needed.add(sub)
                stack.append(defined[sub])
    return [(s, t) for s, t in derivation.definitions if s in needed]
