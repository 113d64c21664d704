"""The IR: an SSA graph of values whose elementwise work is SymPy expressions.

A :class:`Var` is one value: static shape and dtype, the :class:`Node` that made
it (``None`` for graph inputs) and, in eager mode, its concrete array.  A Node is
one op: ``elementwise`` nodes hold a SymPy expression over positional
placeholders ``_0, _1, ...`` standing for ``node.inputs[0], node.inputs[1], ...``
(so the expression never depends on names chosen by chance); structured nodes
(``sum``, ``reshape``) hold static ``params`` instead.

Example:
    >>> import numpy as np
    >>> a = Var((2,), np.dtype('float64'))
    >>> b = Var((2,), np.dtype('float64'))
    >>> q = elementwise(3 * arg(0) ** 3 - arg(1) ** 2, [a, b])
    >>> print(Graph([a, b], [q]).pretty(["a", "b"]))
    { lambda a:f64[2] b:f64[2] .
      let t0:f64[2] = 3*a**3 - b**2
      in (t0) }
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache, lru_cache
from typing import Any

import numpy as np
import sympy

from symgrad.dtypes import SHORT_NAMES

Shape = tuple[int, ...]


@cache
def arg(i: int) -> sympy.Symbol:
    """The placeholder symbol for a node's ``i``-th input."""
    return sympy.Symbol(f"_{i}", real=True)


@lru_cache(maxsize=4096)
def expr_key(expr: sympy.Expr) -> str:
    """A stable text form of an expression (``srepr``), memoised."""
    return sympy.srepr(expr)


class Var:
    """One SSA value: shape, dtype, producing node, and the concrete array when known."""

    __slots__ = ("__weakref__", "dtype", "origin", "producer", "shape", "value")

    def __init__(
        self,
        shape: Shape,
        dtype: np.dtype,
        producer: Node | None = None,
        value: np.ndarray | None = None,
        origin: Any = None,
    ):
        self.shape = tuple(shape)
        self.dtype = dtype
        self.producer = producer
        self.value = value
        self.origin = origin  # an opaque owner (the leaf Tensor in eager mode)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def type_str(self) -> str:
        dims = ",".join(str(d) for d in self.shape)
        return f"{SHORT_NAMES.get(self.dtype, str(self.dtype))}[{dims}]"

    def __repr__(self) -> str:
        return f"Var({self.type_str()})"


class Node:
    """One op of the graph; ``key`` is its structure without its inputs' identities."""

    __slots__ = ("_key", "expr", "inputs", "op", "output", "params")

    def __init__(
        self,
        op: str,
        inputs: Sequence[Var],
        shape: Shape,
        dtype: np.dtype,
        expr: sympy.Expr | None = None,
        params: tuple = (),
        value: np.ndarray | None = None,
    ):
        self.op = op
        self.inputs = tuple(inputs)
        self.expr = expr
        self.params = params
        self.output = Var(shape, dtype, producer=self, value=value)
        self._key = None

    @property
    def key(self) -> tuple:
        """Structure of this node alone: op, expression, params, output type."""
        if self._key is None:
            expr_text = expr_key(self.expr) if self.expr is not None else None
            out = self.output
            self._key = (self.op, expr_text, self.params, out.shape, out.dtype.str)
        return self._key

    def formula(self, names: Sequence[str]) -> sympy.Expr:
        """The expression over the inputs' names instead of placeholders."""
        mapping = {arg(i): sympy.Symbol(n, real=True) for i, n in enumerate(names)}
        return self.expr.xreplace(mapping)


def elementwise(
    expr: sympy.Expr, inputs: Sequence[Var], shape: Shape | None = None, dtype=None
) -> Var:
    """A new elementwise node; shape defaults to the broadcast of the inputs' shapes."""
    if shape is None:
        shape = np.broadcast_shapes(*(v.shape for v in inputs)) if inputs else ()
    if dtype is None:
        dtype = np.result_type(*(v.dtype for v in inputs)) if inputs else np.dtype("float64")
    return Node("elementwise", inputs, shape, dtype, expr=expr).output


def structured(op: str, inputs: Sequence[Var], shape: Shape, dtype, params: tuple = ()) -> Var:
    """A new structured node (``sum``, ``reshape``)."""
    return Node(op, inputs, shape, dtype, params=params).output


def toposort(outputs: Sequence[Var], stop: Sequence[Var] = ()) -> tuple[list[Node], list[Var]]:
    """Nodes reachable from ``outputs`` in dependency order, and the leaf Vars in first-use order.

    Vars in ``stop`` count as leaves even when a node produced them.
    """
    nodes: list[Node] = []
    leaves: list[Var] = []
    seen: set[int] = set()
    stops = {id(v) for v in stop}
    for out in outputs:
        stack: list[tuple[Var, bool]] = [(out, False)]
        while stack:
            var, expanded = stack.pop()
            if expanded:
                nodes.append(var.producer)
                continue
            if id(var) in seen:
                continue
            seen.add(id(var))
            if var.producer is None or id(var) in stops:
                leaves.append(var)
                continue
            stack.append((var, True))
            stack.extend((v, False) for v in reversed(var.producer.inputs) if id(v) not in seen)
    return nodes, leaves


class Graph:
    """Inputs, nodes in topological order, outputs.

    ``Graph(inputs, outputs)`` collects every node between them (stopping at the
    inputs, even ones a node produced); a leaf reached from the outputs that is
    not among ``inputs`` is an error.  With ``prune``, inputs the outputs do not
    use are dropped.
    """

    def __init__(self, inputs: Sequence[Var], outputs: Sequence[Var], prune: bool = False):
        self.outputs = list(outputs)
        self.nodes, leaves = toposort(self.outputs, stop=inputs)
        used = {id(v) for v in leaves}
        self.inputs = [v for v in inputs if id(v) in used] if prune else list(inputs)
        known = {id(v) for v in self.inputs}
        missing = [v for v in leaves if id(v) not in known]
        if missing:
            raise ValueError(f"graph outputs depend on values that are not inputs: {missing}")

    def rebuild(self) -> Graph:
        """The same inputs and outputs with nodes recollected (drops dead nodes)."""
        return Graph(self.inputs, self.outputs)

    def names(self, input_names: Sequence[str] | None = None) -> dict[int, str]:
        """Deterministic names: inputs by ``input_names`` (or x0, x1, ...), nodes t0, t1, ..."""
        if input_names is None:
            input_names = [f"x{i}" for i in range(len(self.inputs))]
        names = {id(v): n for v, n in zip(self.inputs, input_names, strict=True)}
        for j, node in enumerate(self.nodes):
            names[id(node.output)] = f"t{j}"
        return names

    def key(self) -> tuple:
        """Canonical structural key: structure, shapes and dtypes, never values or names."""
        index = {id(v): ("in", i) for i, v in enumerate(self.inputs)}
        parts: list[Any] = [tuple((v.shape, v.dtype.str) for v in self.inputs)]
        for j, node in enumerate(self.nodes):
            parts.append((node.key, tuple(index[id(v)] for v in node.inputs)))
            index[id(node.output)] = ("node", j)
        parts.append(tuple(index[id(v)] for v in self.outputs))
        return tuple(parts)

    def pretty(self, input_names: Sequence[str] | None = None) -> str:
        """A jaxpr-like listing of the graph."""
        names = self.names(input_names)
        head = " ".join(f"{names[id(v)]}:{v.type_str()}" for v in self.inputs)
        lines = [f"{{ lambda {head} ."]
        for i, node in enumerate(self.nodes):
            out = node.output
            lhs = f"{names[id(out)]}:{out.type_str()}"
            lines.append(("  let " if i == 0 else "      ") + f"{lhs} = {describe(node, names)}")
        outs = ", ".join(names[id(v)] for v in self.outputs)
        lines.append(f"  in ({outs}) }}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.pretty()

    def clone(self, origin: Callable[[Var], Any] = lambda v: v.origin) -> Graph:
        """A structural copy with fresh Vars and Nodes (safe to rewrite in place).

        Each copied Var's ``origin`` is ``origin(original_var)`` (by default the
        original's own origin), so callers can find where its value comes from.
        """
        copies: dict[int, Var] = {}
        for v in self.inputs:
            copies[id(v)] = Var(v.shape, v.dtype, value=v.value, origin=origin(v))
        for node in self.nodes:
            new = Node(
                node.op,
                [copies[id(v)] for v in node.inputs],
                node.output.shape,
                node.output.dtype,
                expr=node.expr,
                params=node.params,
                value=node.output.value,
            )
            new.output.origin = origin(node.output)
            copies[id(node.output)] = new.output
        return Graph([copies[id(v)] for v in self.inputs], [copies[id(v)] for v in self.outputs])


def describe(node: Node, names: dict[int, str]) -> str:
    """One node's right-hand side: its formula, or ``op[params] inputs``."""
    input_names = [names[id(v)] for v in node.inputs]
    if node.op == "elementwise":
        text = str(node.formula(input_names))
        if node.inputs and node.output.shape != np.broadcast_shapes(
            *(v.shape for v in node.inputs)
        ):
            text += f"  (broadcast to {node.output.shape})"
        return text
    params = ", ".join(str(p) for p in node.params)
    return f"{node.op}[{params}] {' '.join(input_names)}"
