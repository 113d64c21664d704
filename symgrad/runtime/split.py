"""A split graph at run time: its driver calling each piece on its own tier.

Pieces are kernels of their own (see ``compiler/codegen/pieces.py``), each on its own
tier (``runtime/tiers.py``): under ``background`` each runs on the interpreter until a
worker has compiled it, so steps speed up piece by piece.  Once every piece runs
compiled, the driver calls their Numba dispatchers directly.

Example:
    >>> import numpy as np, sympy
    >>> from symgrad import ir
    >>> from symgrad.compiler.build import Kernel, prepare
    >>> from symgrad.compiler.codegen.pieces import PIECE_NODES
    >>> x = ir.Var((3,), np.dtype('float64'))
    >>> y = x
    >>> for _ in range(2 * PIECE_NODES):
    ...     y = ir.elementwise(sympy.cos(ir.arg(0)), [y])
    >>> graph, source = prepare(ir.Graph([x], [y]), ["write"], ["x"])
    >>> pieces = [Kernel(p.source, p.graph, ["x0"]) for p in source.plan.pieces]
    >>> run = SplitKernel(graph, source, pieces)
    >>> out = np.empty(3); run(np.zeros(3), out); run.tier, out.round(6)  # cos(cos(...))
    ('kernel', array([0.739085, 0.739085, 0.739085]))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from symgrad import ir
from symgrad.compiler.codegen.pieces import KernelSource

_DRIVER_CALLS = [0]  # calls of every split graph's driver in this process


def driver_calls() -> int:
    """How many times a split graph has run in this process (pieces switch between two)."""
    return _DRIVER_CALLS[0]


def _dispatcher(piece: Any) -> Any:
    """The Numba dispatcher a piece now calls straight through, if it is on the kernel."""
    kernel = getattr(piece, "compiled", piece)
    fn = getattr(kernel, "fn", None)
    return fn if fn is not None and kernel.call is fn else None


class SplitKernel:
    """Called like one kernel (``run(*inputs, *outputs)``); runs the pieces in order."""

    def __init__(self, graph: ir.Graph, source: KernelSource, pieces: Sequence[Any]):
        self.graph = graph
        self.source = source
        self.input_names = tuple(f"x{i}" for i in range(len(graph.inputs)))
        self.pieces = list(pieces)  # an executable per piece of ``source.plan``
        self._namespace: dict[str, Any] = {"empty": np.empty, "matmul": np.matmul}
        self._namespace.update(np.sctypeDict)
        self._namespace.update({f"p{k}": piece for k, piece in enumerate(self.pieces)})
        exec(source.plan.driver, self._namespace)
        self.call = self._run = self._namespace["run"]
        self.call = self._call_and_check

    def __call__(self, *arrays: np.ndarray) -> None:
        self.call(*arrays)

    def _call_and_check(self, *arrays: np.ndarray) -> None:
        _DRIVER_CALLS[0] += 1
        self._run(*arrays)
        direct = [_dispatcher(piece) for piece in self.pieces]
        if all(d is not None for d in direct):  # every piece compiled and checked: call
            self._namespace.update({f"p{k}": d for k, d in enumerate(direct)})  # Numba directly
            self.call = self._run

    @property
    def tier(self) -> str:
        """``kernel`` once every piece runs compiled; else what the slowest piece runs on."""
        tiers = {piece.tier for piece in self.pieces}
        for tier in ("compiling in background", "interpreter"):
            if tier in tiers:
                return tier
        return "kernel"

    def pretty(self) -> str:
        return self.graph.pretty()
