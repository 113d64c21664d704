"""The SSA graph: values (:class:`Var`), ops (:class:`Node`) and :class:`Graph`.

A Var is one value: static shape and dtype, the Node that made it (``None`` for
graph inputs) and, in eager mode, its concrete array.  A Node applies one
:class:`~symgrad.ir.primitive.Primitive` to its inputs with typed ``params``;
elementwise nodes also hold a SymPy expression over positional placeholders
``_0, _1, ...`` standing for ``node.inputs[0], node.inputs[1], ...`` (so the
expression never depends on names chosen by chance).

Vars and Nodes compare and hash by identity, so they are dictionary keys in
every pass; a graph owns its nodes, so no key is ever reused while in use.

Example:
    >>> import numpy as np
    >>> from symgrad.ir import elementwise
    >>> a = Var((2,), np.dtype('float64'))
    >>> b = Var((2,), np.dtype('float64'))
    >>> q = elementwise(3 * arg(0) ** 3 - arg(1) ** 2, [a, b])
    >>> print(Graph([a, b], [q]).pretty(["a", "b"]))
    { lambda a:f64[2] b:f64[2] .
      let t0:f64[2] = 3*a**3 - b**2
      in (t0) }
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np
import sympy

from symgrad.dtypes import SHORT_NAMES
from symgrad.ir.scopes import STATE as SCOPES
from symgrad.ir.shapes import Shape

if TYPE_CHECKING:
    from symgrad.ir.primitive import Primitive


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

    __slots__ = ("__weakref__", "dtype", "origin", "producer", "shape", "value", "version")

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
        self.version: Any = None  # (counter, count) of ``value`` when it was recorded

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def type_str(self) -> str:
        dims = ",".join(str(d) for d in self.shape)
        return f"{SHORT_NAMES.get(self.dtype, str(self.dtype))}[{dims}]"

    def __repr__(self) -> str:
        return f"Var({self.type_str()})"


_SERIALS = itertools.count()


class Node:
    """One application of a primitive; ``key`` is its structure without its inputs' identities."""

    __slots__ = ("_key", "expr", "inputs", "output", "params", "primitive", "scope", "serial")

    def __init__(
        self,
        primitive: Primitive,
        inputs: Sequence[Var],
        shape: Shape,
        dtype: np.dtype,
        params: Any = None,
        expr: sympy.Expr | None = None,
        value: np.ndarray | None = None,
    ):
        self.primitive = primitive
        self.inputs = tuple(inputs)
        self.expr = expr
        self.params = params
        self.output = Var(shape, dtype, producer=self, value=value)
        self._key = None
        self.scope = SCOPES.current  # the module call it was recorded in (see ir/scopes.py)
        self.serial = next(_SERIALS)  # creation order: program order, then reverse mode's

    @property
    def op(self) -> str:
        """The primitive's name (``"elementwise"``, ``"sum"``, ``"matmul"``, ...)."""
        return self.primitive.name

    @property
    def key(self) -> tuple:
        """Structure of this node alone: primitive, expression, params, output type."""
        if self._key is None:
            expr_text = expr_key(self.expr) if self.expr is not None else None
            out = self.output
            self._key = (self.primitive.name, expr_text, self.params, out.shape, out.dtype.str)
        return self._key

    def rewritten(self) -> None:
        """Forget the cached key after a pass changed ``inputs``, ``expr`` or ``params``."""
        self._key = None

    def formula(self, names: Sequence[str]) -> sympy.Expr:
        """The expression over the inputs' names instead of placeholders."""
        mapping = {arg(i): sympy.Symbol(n, real=True) for i, n in enumerate(names)}
        return self.expr.xreplace(mapping)


def toposort(outputs: Sequence[Var], stop: Sequence[Var] = ()) -> tuple[list[Node], list[Var]]:
    """Nodes reachable from ``outputs`` in dependency order, and the leaf Vars in first-use order.

    Vars in ``stop`` count as leaves even when a node produced them.
    """
    nodes: list[Node] = []
    leaves: list[Var] = []
    seen: set[Var] = set()
    stops = set(stop)
    for out in outputs:
        stack: list[tuple[Var, bool]] = [(out, False)]
        while stack:
            var, expanded = stack.pop()
            if expanded:
                nodes.append(var.producer)
                continue
            if var in seen:
                continue
            seen.add(var)
            if var.producer is None or var in stops:
                leaves.append(var)
                continue
            stack.append((var, True))
            stack.extend((v, False) for v in reversed(var.producer.inputs) if v not in seen)
    return nodes, leaves


def structure_key(inputs: Sequence[Var], nodes: Sequence[Node], outputs: Sequence[Var]) -> tuple:
    """The canonical key of ``nodes`` (in topological order) between ``inputs`` and ``outputs``:
    each node's key and where its inputs come from, never values or names."""
    index: dict[Var, tuple] = {v: ("in", i) for i, v in enumerate(inputs)}
    parts: list[Any] = [tuple((v.shape, v.dtype.str) for v in inputs)]
    for j, node in enumerate(nodes):
        parts.append((node.key, tuple(index[v] for v in node.inputs)))
        index[node.output] = ("node", j)
    parts.append(tuple(index[v] for v in outputs))
    return tuple(parts)


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
        used = set(leaves)
        self.inputs = [v for v in inputs if v in used] if prune else list(inputs)
        known = set(self.inputs)
        missing = [v for v in leaves if v not in known]
        if missing:
            raise ValueError(f"graph outputs depend on values that are not inputs: {missing}")

    def rebuild(self) -> Graph:
        """The same inputs and outputs with nodes recollected (drops dead nodes)."""
        return Graph(self.inputs, self.outputs)

    def names(self, input_names: Sequence[str] | None = None) -> dict[Var, str]:
        """Deterministic names: inputs by ``input_names`` (or x0, x1, ...), nodes t0, t1, ..."""
        if input_names is None:
            input_names = [f"x{i}" for i in range(len(self.inputs))]
        names = dict(zip(self.inputs, input_names, strict=True))
        for j, node in enumerate(self.nodes):
            names[node.output] = f"t{j}"
        return names

    def key(self) -> tuple:
        """Canonical structural key: structure, shapes and dtypes, never values or names."""
        return structure_key(self.inputs, self.nodes, self.outputs)

    def pretty(self, input_names: Sequence[str] | None = None) -> str:
        """A jaxpr-like listing of the graph."""
        names = self.names(input_names)
        head = " ".join(f"{names[v]}:{v.type_str()}" for v in self.inputs)
        lines = [f"{{ lambda {head} ."]
        for i, node in enumerate(self.nodes):
            out = node.output
            lhs = f"{names[out]}:{out.type_str()}"
            rhs = node.primitive.describe(node, [names[v] for v in node.inputs])
            lines.append(("  let " if i == 0 else "      ") + f"{lhs} = {rhs}")
        outs = ", ".join(names[v] for v in self.outputs)
        lines.append(f"  in ({outs}) }}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.pretty()

    def clone(
        self, origin: Callable[[Var], Any] = lambda v: v.origin, values: bool = True
    ) -> Graph:
        """A structural copy with fresh Vars and Nodes (safe to rewrite in place).

        Each copied Var's ``origin`` is ``origin(original_var)`` (by default the
        original's own origin), so callers can find where its value comes from; with
        ``values=False`` the copy holds no arrays.
        """
        copies: dict[Var, Var] = {}
        for v in self.inputs:
            copies[v] = Var(v.shape, v.dtype, value=v.value if values else None, origin=origin(v))
        for node in self.nodes:
            new = Node(
                node.primitive,
                [copies[v] for v in node.inputs],
                node.output.shape,
                node.output.dtype,
                params=node.params,
                expr=node.expr,
                value=node.output.value if values else None,
            )
            new.output.origin = origin(node.output)
            new.scope, new.serial = node.scope, node.serial
            copies[node.output] = new.output
        return Graph([copies[v] for v in self.inputs], [copies[v] for v in self.outputs])
