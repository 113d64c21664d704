"""Graph → Numba source: scheduling into loops, the scalar printer, the kernel writer."""

from __future__ import annotations

from symgrad.compiler.codegen.kernel import generate
from symgrad.compiler.codegen.outputs import materialize_outputs
from symgrad.compiler.codegen.pieces import KernelSource, split_source

__all__ = ["KernelSource", "generate", "materialize_outputs", "split_source"]
