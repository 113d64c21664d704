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
from symgrad.compiler import machine_code
from symgrad.compiler.backend import STATS, discard_machine_code, kernel_path, load_kernel
from symgrad.compiler.codegen import generate, materialize_outputs, split_source
from symgrad.compiler.passes import optimize


class Kernel:
    """A jitted kernel ``call(*inputs, *outputs)`` with the source and graph it came from.

    The first call (or :meth:`load`) holds the kernel's cross-process lock, checks
    Numba's cached machine code against its checksums (deleting it on a mismatch),
    compiles or loads it, and records the checksums of what is cached then.  If cached
    machine code still fails to load, it is deleted and the kernel compiled afresh.
    """

    tier = "kernel"

    def __init__(self, source: str, graph: ir.Graph, input_names: Sequence[str]):
        self.source = source
        self.graph = graph
        self.input_names = tuple(input_names)
        self.fn: Any = load_kernel(source)
        self.path = kernel_path(source)
        self.call = self._first_call

    def _first_call(self, *arrays: Any) -> None:
        with machine_code.kernel_lock(self.path), machine_code.optimization_level():
            self._verify()
            try:
                self.fn(*arrays)
            except Exception:
                discard_machine_code(self.source, self.fn)
                self.fn = load_kernel(self.source)
                self.fn(*arrays)
            finally:
                machine_code.record(self.fn)
        self.call = self.fn

    def load(self, signature: Any) -> None:
        """Compile or load (checked) the machine code for one Numba signature, uncalled."""
        with machine_code.kernel_lock(self.path), machine_code.optimization_level():
            self._verify()
            self.fn.compile(signature)
            machine_code.record(self.fn)

    def _verify(self) -> None:
        if not machine_code.verify(self.fn):
            STATS["machine_code_discarded"] += 1

    def __call__(self, *arrays: Any) -> None:
        self.call(*arrays)

    def pretty(self) -> str:
        return self.graph.pretty(self.input_names)


def prepare(
    graph: ir.Graph, modes: Sequence[str], input_names: Sequence[str]
) -> tuple[ir.Graph, str]:
    """Optimize ``graph`` (which this takes ownership of) and write its kernel source: one
    kernel, or for a large graph the pieces and the driver that calls them
    (a :class:`~symgrad.compiler.codegen.pieces.KernelSource` with a ``plan``)."""
    graph = materialize_outputs(optimize(graph), modes)
    return graph, split_source(graph, modes) or generate(graph, modes, input_names)


def build(graph: ir.Graph, modes: Sequence[str], input_names: Sequence[str]) -> Kernel:
    """Optimize ``graph`` (which this takes ownership of), generate its kernel, load it."""
    graph, source = prepare(graph, modes, input_names)
    return Kernel(source, graph, input_names)
