"""Large graphs as pieces of bounded size, cut at layers, each compiled on its own.

Numba's compile time grows faster than linearly with a function's size, so a graph of
more than :data:`SPLIT_ABOVE` nodes is cut into pieces: runs of nodes recorded in one
module call (a model's layer, see :mod:`symgrad.ir.scopes`), at most
:data:`PIECE_NODES` nodes each, in creation order (program order, then reverse mode's).
Each piece is a kernel of its own with positional parameter names and its own size
symbols, so identical layers give the same source: one file, compiled once, shared
within and across graphs.  A small Python driver allocates the values passed between
pieces and calls them in order (an ``@njit`` driver would link every piece into one
module and optimize it whole, which costs as much as the unsplit kernel).  The driver
also computes the matrix products itself, with NumPy's ``matmul`` (the BLAS a kernel
calls through ``sg_gemm``), so pieces are loops only and compile faster.  Views
(transposes, reshapes) are never handed from piece to piece: a piece reads what they
view and takes the view itself, so no piece copies a transposed weight for another;
the copy that writes an output runs in the piece that computes its value.

Example:
    >>> import numpy as np, sympy
    >>> from symgrad import ir
    >>> x = ir.Var((3,), np.dtype('float64'))
    >>> y = x
    >>> for _ in range(2 * PIECE_NODES):
    ...     y = ir.elementwise(sympy.sin(ir.arg(0)), [y])
    >>> plan = split_source(ir.Graph([x], [y]), ["write"]).plan
    >>> len(plan.pieces)  # two calls of one piece
    1
    >>> print(plan.driver)
    def run(x0, out0):
        t0 = empty((3,), float64)
        p0(x0, t0)
        p0(t0, out0)
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass

import sympy

from symgrad import ir
from symgrad.compiler.codegen import kernel as writer
from symgrad.compiler.codegen.outputs import materialize_outputs
from symgrad.ir import Schedule
from symgrad.ir.primitives.core import ELEMENTWISE, RESHAPE
from symgrad.ir.primitives.matmul import MATMUL
from symgrad.ir.primitives.permute import PERMUTE
from symgrad.ir.size_rewrite import free_sizes, rewrite_sizes, size_symbols
from symgrad.ir.sizes import size_symbol

#: Graphs with more nodes than this are split.
SPLIT_ABOVE = 120
#: The most nodes in one piece.
PIECE_NODES = 64


@dataclass
class PieceKernel:
    """One piece's kernel: its source, its graph (positional inputs) and output modes."""

    source: str
    graph: ir.Graph
    modes: tuple[str, ...]


@dataclass
class SplitPlan:
    """The distinct pieces of a split graph and the driver ``run(x0, ..., out0, ...)``
    that calls them (``p<k>`` is ``pieces[k]``; arrays are allocated with ``empty``,
    matrix products computed with ``matmul``: NumPy's)."""

    pieces: list[PieceKernel]
    driver: str

    def listing(self) -> str:
        """Every distinct piece's source, then the driver: all the generated code."""
        parts = [f"# --- piece p{k} ---\n{p.source}" for k, p in enumerate(self.pieces)]
        return "\n".join([*parts, f"# --- driver ---\n{self.driver}\n"])


class KernelSource(str):
    """The source shown for a split graph (its listing), carrying the :class:`SplitPlan`."""

    plan: SplitPlan

    def listing(self) -> str:
        return str(self)


@dataclass
class Piece:
    """Nodes run by one piece kernel, the values it reads, and those it hands on."""

    nodes: list[ir.Node]
    inputs: list[ir.Var]
    outputs: list[ir.Var]
    #: a matrix product the driver computes itself (see :func:`driver_product`)
    in_driver: bool = False


def creation_order(graph: ir.Graph) -> list[ir.Node]:
    """The graph's nodes in a dependency order that follows creation as closely as it can."""
    made_here = {node.output for node in graph.nodes} - set(graph.inputs)
    waiting: dict[ir.Node, int] = {}
    users: dict[ir.Node, list[ir.Node]] = {}
    for node in graph.nodes:
        needs = {v for v in node.inputs if v in made_here}
        waiting[node] = len(needs)
        for v in needs:
            users.setdefault(v.producer, []).append(node)
    position = {node: k for k, node in enumerate(graph.nodes)}
    ready = [(node.serial, position[node], node) for node in graph.nodes if not waiting[node]]
    heapq.heapify(ready)
    order = []
    while ready:
        node = heapq.heappop(ready)[2]
        order.append(node)
        for user in users.get(node, ()):
            waiting[user] -= 1
            if not waiting[user]:
                heapq.heappush(ready, (user.serial, position[user], user))
    return order


def cut(graph: ir.Graph) -> list[Piece]:
    """The graph's nodes as pieces: runs of one scope, at most :data:`PIECE_NODES` long."""
    runs: list[list[ir.Node]] = []
    home: dict[ir.Var, int] = {}
    outputs = set(graph.outputs)
    in_driver: set[int] = set()  # runs that are one product the driver computes
    graph_inputs = set(graph.inputs)
    for node in creation_order(graph):
        last = runs[-1] if runs else None
        source = node.inputs[0] if _is_output_copy(node, outputs) else None
        if source in home:  # joins what it copies: no piece of copies, no copy handed on
            runs[home[source]].append(node)
        elif driver_product(node, graph_inputs):
            in_driver.add(len(runs))
            runs.append([node])
        elif (
            last is None
            or len(runs) - 1 in in_driver
            or last[-1].scope != node.scope
            or len(last) >= PIECE_NODES
        ):
            runs.append([node])
        else:
            last.append(node)
        home[node.output] = home.get(source, len(runs) - 1)
    handed_on: set[ir.Var] = set()
    pieces = []
    for k, run in enumerate(runs):
        inputs: list[ir.Var] = []
        for node in run:
            if node.primitive.schedule is Schedule.VIEW:
                continue  # what it views is the input of the node reading the view
            for v in _read_through_views(node.inputs, home, k):
                if v not in inputs:
                    inputs.append(v)
                    handed_on.add(v)
        pieces.append(Piece(run, inputs, [], in_driver=k in in_driver))
    for k, run in enumerate(runs):
        pieces[k].outputs = [n.output for n in run if n.output in outputs or n.output in handed_on]
    return [p for p in pieces if p.outputs]


def _read_through_views(values: Sequence[ir.Var], home: dict[ir.Var, int], k: int) -> list[ir.Var]:
    """What piece ``k`` receives for ``values``: a view (transpose, reshape...) made in
    another piece is taken again here from what it views, never handed on as a copy."""
    received = []
    for v in values:
        if v not in home:  # an input of the whole graph (made, if at all, outside it)
            received.append(v)
        elif v.producer.primitive.schedule is Schedule.VIEW:
            received += _read_through_views(v.producer.inputs, home, k)
        elif home[v] != k:
            received.append(v)
    return received


def driver_product(node: ir.Node, inputs: set[ir.Var]) -> bool:
    """Whether the driver computes ``node`` itself: a matrix product of floats of one
    dtype whose operands are values or transposes and reshapes of them (``inputs``: the
    graph's, which are values whatever made them)."""
    if node.primitive is not MATMUL or node.output.dtype.kind != "f":
        return False
    return all(v.dtype == node.output.dtype and _driver_view(v, inputs) for v in node.inputs)


def _driver_view(var: ir.Var, inputs: set[ir.Var]) -> bool:
    producer = var.producer
    if var in inputs or producer.primitive.schedule is not Schedule.VIEW:
        return True
    return producer.primitive in (PERMUTE, RESHAPE) and _driver_view(producer.inputs[0], inputs)


def _is_output_copy(node: ir.Node, outputs: set[ir.Var]) -> bool:
    """Whether ``node`` is the identity copy that :func:`materialize_outputs` gives an
    output (of a view, an input or a repeated value)."""
    return (
        node.output in outputs
        and node.primitive is ELEMENTWISE
        and len(node.inputs) == 1
        and node.expr == ir.arg(0)
    )


def _local_sizes(graph: ir.Graph) -> bool:
    """Rename the piece's size symbols ``n_0, n_1, ...`` in the order its inputs show them;
    False when a size it uses is no input's dimension (it could not be read at run time)."""
    bound = [s for s, _, _ in free_sizes(graph)]
    if not size_symbols(graph) <= set(bound):
        return False
    mapping = {s: size_symbol(k) for k, s in enumerate(bound)}
    if all(old == new for old, new in mapping.items()):
        return True

    def rename(n):
        return n.xreplace(mapping) if isinstance(n, sympy.Basic) else n

    rewrite_sizes(graph, rename, rename)
    return True


def piece_kernel(piece: Piece, modes: Sequence[str]) -> PieceKernel | None:
    """The canonical kernel of one piece (None when it cannot be written alone)."""
    graph = ir.Graph(piece.inputs, piece.outputs).clone(values=False)
    if not _local_sizes(graph):
        return None
    graph = materialize_outputs(graph, modes)
    source = writer.generate(graph, modes, [f"x{i}" for i in range(len(graph.inputs))])
    return PieceKernel(source, graph, tuple(modes))


def split_source(graph: ir.Graph, modes: Sequence[str]) -> KernelSource | None:
    """The split plan (with its listing as text) for a graph worth splitting, else None.

    ``graph`` must have one node writing each output (``materialize_outputs``).
    """
    if len(graph.nodes) <= SPLIT_ABOVE:
        return None
    pieces = cut(graph)
    if len(pieces) < 2:
        return None
    slot = {v: k for k, v in enumerate(graph.outputs)}
    kernels: list[PieceKernel | None] = []
    for piece in pieces:
        piece_modes = [modes[slot[v]] if v in slot else "write" for v in piece.outputs]
        made = None if piece.in_driver else piece_kernel(piece, piece_modes)
        if made is None and not piece.in_driver:
            return None
        kernels.append(made)
    distinct = list({k.source: k for k in kernels if k is not None}.values())
    index = {k.source: n for n, k in enumerate(distinct)}
    which = [None if k is None else index[k.source] for k in kernels]
    plan = SplitPlan(distinct, _driver(graph, pieces, which, modes))
    source = KernelSource(plan.listing())
    source.plan = plan
    return source


def _driver(
    graph: ir.Graph, pieces: list[Piece], which: list[int | None], modes: Sequence[str]
) -> str:
    slot = {v: k for k, v in enumerate(graph.outputs)}
    names = {var: f"x{k}" for k, var in enumerate(graph.inputs)}
    names.update({var: f"out{k}" for k, var in enumerate(graph.outputs)})
    params = [names[v] for v in graph.inputs] + [f"out{k}" for k in range(len(graph.outputs))]
    lines = [f"def run({', '.join(params)}):"]
    lines += [f"    {s.name} = x{i}.shape[{d}]" for s, i, d in free_sizes(graph)]
    count = 0
    for piece, k in zip(pieces, which, strict=True):
        for var in piece.outputs:
            if var not in names:
                names[var] = f"t{count}"
                count += 1
                dtype = writer.NUMPY_NAMES.get(var.dtype.name, var.dtype.name)
                lines.append(f"    {names[var]} = empty({var.shape}, {dtype})")
        if k is None:
            copied = [modes[slot[node.output]] for node in piece.nodes[1:]]
            lines += _product_lines(piece, names, copied)
            continue
        operands = [names[v] for v in piece.inputs + piece.outputs]
        lines.append(f"    p{k}({', '.join(operands)})")
    return "\n".join(lines)


def _product_lines(piece: Piece, names: dict[ir.Var, str], modes: list[str]) -> list[str]:
    """The driver's lines for a matrix product: into its buffer, or straight into the
    output its copy writes (``=`` or ``+=``, ``modes[k]`` for copy ``k``), then the
    other copies."""
    product, *copies = piece.nodes
    operands = ", ".join(_view_text(v, names) for v in product.inputs)
    targets = [names[node.output] for node in copies]
    if product.output in piece.outputs or not copies:
        source = names[product.output]
        lines = [f"    matmul({operands}, out={source})"]
    else:
        source, targets, first, modes = targets[0], targets[1:], modes[0], modes[1:]
        if first == "accumulate":
            lines = [f"    {source} += matmul({operands})"]
        else:
            lines = [f"    matmul({operands}, out={source})"]
    for target, mode in zip(targets, modes, strict=True):
        into = "+=" if mode == "accumulate" else "[...] ="
        lines.append(f"    {target} {into} {source}")
    return lines


def _view_text(var: ir.Var, names: dict[ir.Var, str]) -> str:
    if var in names:
        return names[var]
    producer = var.producer
    if producer.primitive is not PERMUTE:
        return f"{_view_text(producer.inputs[0], names)}.reshape({producer.params.shape})"
    axes, inner = producer.params.axes, producer.inputs[0]
    while inner not in names and inner.producer.primitive is PERMUTE:  # one transpose
        axes = tuple(inner.producer.params.axes[a] for a in axes)
        inner = inner.producer.inputs[0]
    base = _view_text(inner, names)
    if axes == tuple(range(len(axes))):
        return base
    return f"{base}.T" if axes == (1, 0) else f"{base}.transpose({axes})"
