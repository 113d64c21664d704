"""Group a graph's nodes into loops: each run of elementwise work over one shape is one loop.

A :class:`Loop` computes its ``members`` (elementwise nodes of the loop's
shape) one element at a time and folds its ``reductions`` (nodes whose primitive
is scheduled as a reduction, over values of that shape) into accumulators in the
same pass.  Free views (reshapes that only add or remove size-1 dims) get no code:
reads go through them.  Every other node is an :class:`Op`, written by its
primitive's emitter.

Example:
    >>> import numpy as np
    >>> from symgrad import ir
    >>> x = ir.Var((4,), np.dtype('float64'))
    >>> s = ir.reduce_sum(ir.elementwise(ir.arg(0) ** 2, [x]), (0,), False)
    >>> loops, views = schedule(ir.Graph([x], [s]))
    >>> [(loop.shape, len(loop.members), len(loop.reductions)) for loop in loops]
    [((4,), 1, 1)]
"""

from __future__ import annotations

from dataclasses import dataclass, field

from symgrad import ir
from symgrad.ir import Schedule

Views = dict[ir.Var, ir.Var]  # a free view's output -> the value it reads


@dataclass
class Op:
    """A structured node written by its primitive's emitter (matmul, gather, concat, ...)."""

    node: ir.Node


@dataclass
class Loop:
    """Elementwise members and reductions that run in one pass over ``shape``."""

    shape: tuple[int, ...]
    members: list[ir.Node] = field(default_factory=list)
    reductions: list[ir.Node] = field(default_factory=list)

    def owns(self, var: ir.Var) -> bool:
        return var.producer is not None and (
            var.producer in self.members or var.producer in self.reductions
        )


def in_loop(node: ir.Node) -> bool:
    """Whether the node runs inside a fused loop (elementwise work or a reduction)."""
    return node.primitive.schedule in (Schedule.ELEMENTWISE, Schedule.REDUCTION)


def view_base(var: ir.Var, views: Views) -> ir.Var:
    """The Var a chain of free views reads from."""
    while var in views:
        var = views[var]
    return var


def schedule(graph: ir.Graph) -> tuple[list[Loop | Op], Views]:
    """Steps (loops and structured ops) in execution order, and the free views."""
    loops: list[Loop | Op] = []
    views: Views = {}
    current: Loop | None = None

    def must_wait(node: ir.Node, loop: Loop) -> bool:
        # A node cannot join a loop whose reductions it reads (they finish after the
        # loop), nor read a member through a view (views read whole arrays).
        for var in node.inputs:
            base = view_base(var, views)
            if base.producer in loop.reductions:
                return True
            if base is not var and loop.owns(base):
                return True
        return False

    def placement(node: ir.Node) -> tuple[tuple[int, ...], str]:
        if node.primitive.schedule is Schedule.ELEMENTWISE:
            return node.output.shape, "members"
        return node.inputs[0].shape, "reductions"

    # List scheduling: among the nodes whose inputs are ready, prefer one that can
    # join the open loop; otherwise open a loop for the earliest ready node.
    waiting = list(graph.nodes)
    done = set(graph.inputs)
    while waiting:
        ready = [n for n in waiting if all(v in done for v in n.inputs)]
        node = next(
            (
                n
                for n in ready
                if in_loop(n)
                and current is not None
                and placement(n)[0] == current.shape
                and not must_wait(n, current)
            ),
            ready[0],
        )
        waiting.remove(node)
        done.add(node.output)
        if node.primitive.is_free_view(node):
            views[node.output] = node.inputs[0]
            continue
        if not in_loop(node):
            loops.append(Op(node))
            current = None
            continue
        shape, bucket = placement(node)
        if current is None or current.shape != shape or must_wait(node, current):
            current = Loop(shape)
            loops.append(current)
        getattr(current, bucket).append(node)
    return loops, views
