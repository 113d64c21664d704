"""Each output of a graph gets a node of its own that writes it."""

from __future__ import annotations

from collections.abc import Sequence

from symgrad import ir
from symgrad.ir import Schedule


def materialize_outputs(graph: ir.Graph, modes: Sequence[str]) -> ir.Graph:
    """Give every output a node of its own that writes it, so each buffer has one writer.

    An output that is an input, repeats another output, or is a view (reshape,
    permute) gets an identity copy; so does one accumulated into (``+=``) unless a
    loop computes it with a fold that can add into the buffer and no other node reads it.
    """
    consumed = {v for node in graph.nodes for v in node.inputs}
    inputs = set(graph.inputs)
    seen: set[ir.Var] = set()
    outputs = []
    for var, mode in zip(graph.outputs, modes, strict=True):
        producer = var.producer
        if (
            var in inputs
            or var in seen
            or producer is None
            or producer.primitive.schedule is Schedule.VIEW
            or (
                mode == "accumulate"
                and (var in consumed or not producer.primitive.fold_into_output)
            )
        ):
            var = ir.elementwise(ir.arg(0), [var], shape=var.shape, dtype=var.dtype)
        seen.add(var)
        outputs.append(var)
    return ir.Graph(graph.inputs, outputs)
