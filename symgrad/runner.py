"""Per-signature call wrappers: a few lines of generated Python around one kernel call.

A runner allocates the output arrays, calls the kernel with the arguments,
the captured tensors' current arrays and the outputs, and packs the outputs
into the function's return structure, with no loops or ``*`` unpacking on the
hot path.

Example:
    >>> print(runner_source(2, 1, [((3,), "d0")], "W(o0)"))
    def run(a0, a1):
        o0 = empty((3,), d0)
        K.call(a0, a1, c0._value, o0)
        return W(o0)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from symgrad.kernels import Kernel
from symgrad.tensor import Tensor, wrap


def runner_source(n_args: int, n_captured: int, outputs: Sequence[tuple], result: str) -> str:
    """The text of ``run(a0, a1, ...)``; ``outputs`` holds (shape, dtype name) pairs."""
    params = ", ".join(f"a{i}" for i in range(n_args))
    lines = [f"def run({params}):"]
    lines += [f"    o{k} = empty({shape!r}, {dtype})" for k, (shape, dtype) in enumerate(outputs)]
    operands = [f"a{i}" for i in range(n_args)]
    operands += [f"c{j}._value" for j in range(n_captured)]
    operands += [f"o{k}" for k in range(len(outputs))]
    lines.append(f"    K.call({', '.join(operands)})")
    lines.append(f"    return {result}")
    return "\n".join(lines)


def make_runner(
    kernel: Kernel, n_args: int, captured: Sequence[Tensor], result: str
) -> Callable[..., Any]:
    """Compile the runner for ``kernel``; ``result`` is a Python expression over ``W(o<k>)``."""
    outputs = [(v.shape, f"d{k}") for k, v in enumerate(kernel.graph.outputs)]
    namespace: dict[str, Any] = {"empty": np.empty, "K": kernel, "W": wrap}
    namespace.update({f"d{k}": v.dtype for k, v in enumerate(kernel.graph.outputs)})
    namespace.update({f"c{j}": t for j, t in enumerate(captured)})
    exec(runner_source(n_args, len(captured), outputs, result), namespace)
    return namespace["run"]


def pack_expression(indices: Sequence[int], structure: str) -> str:
    """``W(o0)`` / ``(W(o0), W(o1))`` / ``[...]`` for outputs ``indices`` in ``structure``."""
    items = [f"W(o{k})" for k in indices]
    if structure == "single":
        return items[0]
    if structure == "list":
        return "[" + ", ".join(items) + "]"
    return "(" + "".join(f"{item}, " for item in items) + ")"
