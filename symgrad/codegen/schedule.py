"""Group a graph's nodes into loops: each run of elementwise work over one shape is one loop.

A :class:`Loop` computes its ``members`` (elementwise nodes of the loop's
shape) one element at a time and folds its ``reductions`` (``sum`` nodes over
values of that shape) into accumulators in the same pass.  Reshapes that only
add or remove size-1 dims are *views*: they get no loop, reads go through them.

Example:
    >>> import numpy as np
    >>> from symgrad import ir
    >>> from symgrad.ops.structured import reduce_sum
    >>> x = ir.Var((4,), np.dtype('float64'))
    >>> s = reduce_sum(ir.elementwise(ir.arg(0) ** 2, [x]), (0,), False)
    >>> loops, views = schedule(ir.Graph([x], [s]))
    >>> [(loop.shape, len(loop.members), len(loop.reductions)) for loop in loops]
    [((4,), 1, 1)]
"""

from __future__ import annotations

from dataclasses import dataclass, field

from symgrad import ir
from symgrad.ops.structured import is_unit_reshape

LOOP_REDUCTIONS = ("sum", "max", "min")


@dataclass
class Op:
    """A structured node with its own emitter (matmul, gather, concat, ...)."""

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


def view_base(var: ir.Var, views: dict[int, ir.Var]) -> ir.Var:
    """The Var a chain of unit-dim reshapes reads from."""
    while id(var) in views:
        var = views[id(var)]
    return var


def schedule(graph: ir.Graph) -> tuple[list[Loop | Op], dict[int, ir.Var]]:
    """Steps (loops and structured ops) in execution order, and the views (output id → input)."""
    loops: list[Loop | Op] = []
    views: dict[int, ir.Var] = {}
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
        if node.op == "elementwise":
            return node.output.shape, "members"
        return node.inputs[0].shape, "reductions"

    # List scheduling: among the nodes whose inputs are ready, prefer one that can
    # join the open loop; otherwise open a loop for the earliest ready node.
    waiting = list(graph.nodes)
    done = {id(v) for v in graph.inputs}
    while waiting:
        ready = [n for n in waiting if all(id(v) in done for v in n.inputs)]
        node = next(
            (
                n
                for n in ready
                if (n.op == "elementwise" or n.op in LOOP_REDUCTIONS)
                and current is not None
                and placement(n)[0] == current.shape
                and not must_wait(n, current)
            ),
            ready[0],
        )
        waiting.remove(node)
        done.add(id(node.output))
        if node.op == "reshape" and is_unit_reshape(node.inputs[0].shape, node.output.shape):
            views[id(node.output)] = node.inputs[0]
            continue
        if node.op != "elementwise" and node.op not in LOOP_REDUCTIONS:
            loops.append(Op(node))
            current = None
            continue
        shape, bucket = placement(node)
        if current is None or current.shape != shape or must_wait(node, current):
            current = Loop(shape)
            loops.append(current)
        getattr(current, bucket).append(node)
    return loops, views
