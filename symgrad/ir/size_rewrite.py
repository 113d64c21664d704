"""Rewriting a traced graph's sizes: :func:`finalize` after a trace, :func:`specialize` for
the interpreter, :func:`free_sizes` for kernels and runners that read sizes from arrays.

After a trace with symbolic sizes (:mod:`symgrad.ir.sizes`), :func:`finalize` turns
every size in the graph's shapes, params and expressions into an int or an
expression over canonical symbols ``n_0, n_1, ...`` (in argument order), and returns
the :class:`SizeGuards` a call's argument shapes must meet.

Example:
    >>> import numpy as np
    >>> from symgrad import ir
    >>> env = SizeEnv()
    >>> x = ir.Var((env.dim(0, 0, 5), 3), np.dtype('float64'))
    >>> graph = ir.Graph([x], [ir.reduce_sum(x, (1,), False)])
    >>> guards = finalize(env, graph)
    >>> graph.outputs[0].shape, [s.name for s, _, _ in free_sizes(graph)]
    ((n_0,), ['n_0'])
    >>> specialize(graph, {size_symbol(0): 8}).outputs[0].shape
    (8,)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import sympy

from symgrad.ir.sizes import SizeEnv, SymSize, is_integer_code, size_symbol


# --- rewriting sizes in a graph ----------------------------------------------------------
def _map_value(value: Any, fn: Callable[[Any], Any]) -> Any:
    """``value`` with every size in it (SymSize, SymPy expression) mapped by ``fn``."""
    if isinstance(value, SymSize | sympy.Expr):
        return fn(value)
    if isinstance(value, tuple):
        mapped = tuple(_map_value(v, fn) for v in value)
        return value if all(a is b for a, b in zip(mapped, value, strict=True)) else mapped
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for field in dataclasses.fields(value):
            old = getattr(value, field.name)
            new = _map_value(old, fn)
            if new is not old:
                changes[field.name] = new
        return dataclasses.replace(value, **changes) if changes else value
    return value


def rewrite_sizes(graph: Any, fn: Callable[[Any], Any], exprs: Callable | None = None) -> None:
    """Map every size of ``graph`` (shapes and params) by ``fn`` in place, and every
    elementwise expression by ``exprs``."""
    for var in graph.inputs:
        var.shape = tuple(_map_value(n, fn) for n in var.shape)
    for node in graph.nodes:
        out = node.output
        out.shape = tuple(_map_value(n, fn) for n in out.shape)
        node.params = _map_value(node.params, fn)
        if exprs is not None and node.expr is not None:
            node.expr = exprs(node.expr)
        node.rewritten()


def _as_size(expr: Any) -> Any:
    expr = sympy.sympify(expr)
    return int(expr) if expr.is_number else expr


def free_sizes(graph: Any) -> list[tuple[sympy.Symbol, int, int]]:
    """Each free size symbol of a finished graph with the first (input, dim) that has it."""
    found: dict[sympy.Symbol, tuple[int, int]] = {}
    for i, var in enumerate(graph.inputs):
        for d, n in enumerate(var.shape):
            if isinstance(n, sympy.Symbol) and n not in found:
                found[n] = (i, d)
    return [(s, i, d) for s, (i, d) in found.items()]


def specialize(graph: Any, sizes: dict[sympy.Symbol, int]) -> Any:
    """A copy of ``graph`` with its free sizes replaced by ``sizes`` (concrete ints)."""
    copy = graph.clone(values=False)
    table = {s: sympy.Integer(v) for s, v in sizes.items()}

    def concrete(n: Any) -> Any:
        return _as_size(n.xreplace(table)) if isinstance(n, sympy.Expr) else n

    def numbers(expr: sympy.Expr) -> sympy.Expr:
        return expr.xreplace(table) if expr.free_symbols & table.keys() else expr

    rewrite_sizes(copy, concrete, numbers)
    return copy


@dataclasses.dataclass(frozen=True)
class SizeGuards:
    """What a finished trace assumes about its arguments' sizes.

    ``guards`` are relations over the argument-dim symbols ``d<arg>_<dim>``; ``dims``
    maps each such symbol to (argument, dim).  :meth:`holds` checks argument shapes.
    """

    dims: tuple[tuple[sympy.Symbol, int, int], ...]
    guards: tuple[sympy.Basic, ...]

    def holds(self, shapes: Sequence[tuple]) -> bool:
        """True when argument shapes ``shapes`` meet every guard (exact integer arithmetic,
        so ``floor`` and ``Mod`` in a guard are exact too)."""
        if not self.guards:
            return True
        values = {s: sympy.Integer(shapes[a][d]) for s, a, d in self.dims}
        return all(bool(g.xreplace(values)) for g in self.guards)


def finalize(env: SizeEnv, graph: Any) -> SizeGuards:
    """Turn the trace's sizes into ints and canonical symbols ``n_k``, in place.

    Equality guards pin a size to an int or to another size; an equality that is not of
    that form, or a size kernels cannot compute (not made of sums, products and floor
    divisions), pins its symbols to their example values.  Returns the guards a call's
    argument shapes must meet.
    """
    guards = list(env.guards)
    parent: dict[sympy.Symbol, Any] = {s: s for s in env.hints}

    def find(s: sympy.Symbol) -> Any:
        while isinstance(parent[s], sympy.Symbol) and parent[s] is not s and parent[s] != s:
            s = parent[s]
        return parent[s]

    def pin(symbols: Iterable[sympy.Symbol]) -> None:
        for s in symbols:
            if not isinstance(find(s), int):
                guards.append(sympy.Eq(s - env.hints[s], 0, evaluate=False))
                _union(s, env.hints[s])

    def _union(s: sympy.Symbol, target: Any) -> None:
        root = find(s)
        other = find(target) if isinstance(target, sympy.Symbol) else int(target)
        if isinstance(root, int) and isinstance(other, int):
            return  # both pinned already (to the same example value)
        if isinstance(root, int):
            parent[other] = root
        elif isinstance(other, int):
            parent[root] = other
        elif other != root:
            first, second = sorted([root, other], key=_order)
            parent[second] = first

    for g in env.guards:
        if not isinstance(g, sympy.Eq):
            continue
        difference = sympy.expand(g.lhs - g.rhs)
        symbols = sorted(difference.free_symbols, key=_order)
        if len(symbols) == 1:
            s = symbols[0]
            coeff = difference.coeff(s)
            rest = sympy.expand(difference - coeff * s)
            if coeff in (1, -1) and rest.is_Integer:
                _union(s, int(-rest / coeff))
                continue
        if len(symbols) == 2 and difference in (
            symbols[0] - symbols[1],
            symbols[1] - symbols[0],
        ):
            _union(symbols[0], symbols[1])
            continue
        pin(symbols)

    def table() -> dict[sympy.Symbol, sympy.Expr]:
        return {s: sympy.sympify(find(s)) for s in env.hints}

    # Any size left in a form kernels cannot compute pins its symbols.
    current = table()
    for expr in _sizes_in(graph):
        replaced = expr.xreplace(current)
        if not replaced.is_number and not is_integer_code(sympy.expand(replaced)):
            pin(replaced.free_symbols & set(env.hints))
            current = table()
    current = table()
    order = sorted({r for r in current.values() if isinstance(r, sympy.Symbol)}, key=_order)
    names = {root: size_symbol(k) for k, root in enumerate(order)}
    final = {s: names.get(root, root) for s, root in current.items()}

    def convert(n: Any) -> Any:
        expr = n.expr if isinstance(n, SymSize) else n
        if isinstance(expr, sympy.Expr):
            return _as_size(sympy.expand(expr.xreplace(final)))
        return expr

    def rename(expr: sympy.Expr) -> sympy.Expr:
        return expr.xreplace(final) if expr.free_symbols & final.keys() else expr

    rewrite_sizes(graph, convert, rename)
    dims = tuple((s, a, d) for s, (a, d) in env.dims.items())
    return SizeGuards(dims, tuple(dict.fromkeys(guards)))


def _order(symbol: sympy.Symbol) -> tuple[int, int]:
    argument, dim = symbol.name[1:].split("_")
    return int(argument), int(dim)


def _sizes_in(graph: Any) -> Iterable[sympy.Expr]:
    """Every symbolic size expression in ``graph``'s shapes and params."""
    found: list[sympy.Expr] = []

    def collect(n: Any) -> Any:
        expr = n.expr if isinstance(n, SymSize) else n
        if isinstance(expr, sympy.Expr) and not expr.is_number:
            found.append(expr)
        return n

    for var in graph.inputs:
        for n in var.shape:
            _map_value(n, collect)
    for node in graph.nodes:
        for n in node.output.shape:
            _map_value(n, collect)
        _map_value(node.params, collect)
    return found


def size_symbols(graph: Any) -> set[sympy.Symbol]:
    """Every size symbol a finished graph uses: in shapes, params and elementwise
    expressions (``mean``'s count)."""
    found: set[sympy.Symbol] = set()
    for expr in _sizes_in(graph):
        found |= expr.free_symbols
    for node in graph.nodes:
        if node.expr is not None:
            found |= {s for s in node.expr.free_symbols if s.name.startswith("n_")}
    return found
