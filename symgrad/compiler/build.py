"""From a graph to a callable kernel: passes, code generation, backend.

Example:
    >>> import numpy as np
    >>> from symgrad import ir
    >>> x = ir.Var((3,), np.dtype('float64'))
    >>> k = build(ir.Graph([x], [ir.elementwise(2 * ir.arg(0), [x])]), ["write"], ["x"])
    >>> out = np.empty(3); k(np.arange(3.0), out); out
    array([0., 2., 4.])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from symgrad import ir
from symgrad.compiler.backend import discard_machine_code, load_kernel
from symgrad.compiler.codegen import generate, materialize_outputs
from symgrad.compiler.passes import optimize


class Kernel:
    """A jitted kernel ``call(*inputs, *outputs)`` with the source and graph it came from.

    The first call is guarded: if Numba's cached machine code for this source
    fails to load, it is deleted and the kernel compiled afresh.
    """

    tier = "kernel"

    def __init__(self, source: str, graph: ir.Graph, input_names: Sequence[str]):
        self.source = source
        self.graph = graph
        self.input_names = tuple(input_names)
        self.fn: Any = load_kernel(source)
        self.call = self._first_call

    def _first_call(self, *arrays: Any) -> None:
        try:
            self.fn(*arrays)
        except Exception:
            discard_machine_code(self.source)
            self.fn = load_kernel(self.source)
            self.fn(*arrays)
        self.call = self.fn

    def __call__(self, *arrays: Any) -> None:
        self.call(*arrays)

    def pretty(self) -> str:
        return self.graph.pretty(self.input_names)


def prepare(
    graph: ir.Graph, modes: Sequence[str], input_names: Sequence[str]
) -> tuple[ir.Graph, str]:
    """Optimize ``graph`` (which this takes ownership of) and write its kernel source."""
    graph = materialize_outputs(optimize(graph), modes)
    return graph, generate(graph, modes, input_names)


def build(graph: ir.Graph, modes: Sequence[str], input_names: Sequence[str]) -> Kernel:
    """Optimize ``graph`` (which this takes ownership of), generate its kernel, load it."""
    graph, source = prepare(graph, modes, input_names)
    return Kernel(source, graph, input_names)
