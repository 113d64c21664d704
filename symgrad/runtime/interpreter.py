"""The interpreter tier: run a graph node by node with NumPy, no passes and no compiling.

Each node is computed by its primitive's ``interpret`` (structured ops: their NumPy
evaluation; elementwise nodes: their SymPy expression as a NumPy function,
memoised per expression template).  An :class:`InterpretedKernel` has the calling
convention of a compiled :class:`~symgrad.compiler.build.Kernel` (inputs, then one
buffer per output, written or accumulated in place), so runners and backward plans
use either tier alike.

Example:
    >>> import numpy as np
    >>> from symgrad import ir
    >>> x = ir.Var((3,), np.dtype('float64'))
    >>> k = InterpretedKernel(ir.Graph([x], [ir.elementwise(2 * ir.arg(0), [x])]), ["write"])
    >>> out = np.empty(3); k(np.arange(3.0), out); out
    array([0., 2., 4.])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from symgrad import ir
from symgrad.compiler.build import prepare
from symgrad.ir.size_rewrite import free_sizes, specialize

MAX_SPECIALIZED = 16  # graphs kept per kernel, one per set of sizes seen


def interpret(graph: ir.Graph, arrays: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The values of ``graph``'s outputs for input ``arrays`` (NumPy, node by node)."""
    values: dict[ir.Var, np.ndarray] = dict(zip(graph.inputs, arrays, strict=True))
    with np.errstate(all="ignore"):  # Piecewise evaluates every branch, as kernels do not
        for node in graph.nodes:
            values[node.output] = node.primitive.interpret(node, [values[v] for v in node.inputs])
    return [values[v] for v in graph.outputs]


class InterpretedKernel:
    """A graph run by :func:`interpret`, called like a compiled kernel.

    ``modes[k]`` is ``"write"`` (``=``) or ``"accumulate"`` (``+=``) for output ``k``.
    """

    tier = "interpreter"

    def __init__(self, graph: ir.Graph, modes: Sequence[str], input_names: Sequence[str] = ()):
        self.graph = graph
        self.modes = tuple(modes)
        self.input_names = tuple(input_names)
        self._n_inputs = len(graph.inputs)
        self._source: str | None = None
        self._sizes = free_sizes(graph)  # symbolic sizes: run a copy made for the actual ones
        self._specialized: dict[tuple, ir.Graph] = {}

    def _graph_for(self, inputs: Sequence[np.ndarray]) -> ir.Graph:
        if not self._sizes:
            return self.graph
        actual = tuple(inputs[i].shape[d] for _, i, d in self._sizes)
        graph = self._specialized.get(actual)
        if graph is None:
            if len(self._specialized) >= MAX_SPECIALIZED:
                self._specialized.pop(next(iter(self._specialized)))
            sizes = {s: n for (s, _, _), n in zip(self._sizes, actual, strict=True)}
            graph = self._specialized[actual] = specialize(self.graph, sizes)
        return graph

    def __call__(self, *arrays: np.ndarray) -> None:
        inputs, buffers = arrays[: self._n_inputs], arrays[self._n_inputs :]
        results = interpret(self._graph_for(inputs), inputs)
        for buffer, value, mode in zip(buffers, results, self.modes, strict=True):
            if mode == "accumulate":
                buffer += value
            else:
                np.copyto(buffer, value, casting="unsafe")

    call = __call__

    @property
    def source(self) -> str:
        """The kernel source this graph compiles to on the other tiers (made on request)."""
        if self._source is None:
            self._source = prepare(self.graph.clone(), self.modes, self.input_names)[1]
        return self._source

    def pretty(self) -> str:
        return self.graph.pretty(self.input_names or None)
