"""Graph → Numba source: scheduling into loops, the scalar printer, the kernel writer."""

from __future__ import annotations

from collections.abc import Sequence

from symgrad import ir
from symgrad.codegen.kernel import generate

__all__ = ["generate", "materialize_outputs"]

VIEW_OPS = ("reshape", "permute")
LOOP_OPS = ("elementwise", "sum")


def materialize_outputs(graph: ir.Graph, modes: Sequence[str]) -> ir.Graph:
    """Give every output a node of its own that writes it, so each buffer has one writer.

    An output that is an input, repeats another output, or is a view (reshape,
    permute) gets an identity copy; so does one accumulated into (``+=``) unless a
    loop computes it and no other node reads it.
    """
    consumed = {id(v) for node in graph.nodes for v in node.inputs}
    inputs = {id(v) for v in graph.inputs}
    seen: set[int] = set()
    outputs = []
    for var, mode in zip(graph.outputs, modes, strict=True):
        producer = var.producer
        if (
            id(var) in inputs
            or id(var) in seen
            or producer is None
            or producer.op in VIEW_OPS
            or (mode == "accumulate" and (id(var) in consumed or producer.op not in LOOP_OPS))
        ):
            var = ir.elementwise(ir.arg(0), [var], shape=var.shape, dtype=var.dtype)
        seen.add(id(var))
        outputs.append(var)
    return ir.Graph(graph.inputs, outputs)
