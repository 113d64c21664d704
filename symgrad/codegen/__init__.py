"""Graph → Numba source: scheduling into loops, the scalar printer, the kernel writer."""

from __future__ import annotations

from collections.abc import Sequence

from symgrad import ir
from symgrad.codegen.kernel import generate

__all__ = ["generate", "materialize_outputs"]


def materialize_outputs(graph: ir.Graph, modes: Sequence[str]) -> ir.Graph:
    """Give every output a node of its own that writes it, so each buffer has one writer.

    An output that is an input, repeats another output, is a view (reshape), or
    is accumulated into while other nodes still read it gets an identity copy.
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
            or producer.op == "reshape"
            or (mode == "accumulate" and id(var) in consumed)
        ):
            var = ir.elementwise(ir.arg(0), [var], shape=var.shape, dtype=var.dtype)
        seen.add(id(var))
        outputs.append(var)
    return ir.Graph(graph.inputs, outputs)
