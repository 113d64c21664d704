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

from symgrad.compiler.build import Kernel
from symgrad.frontend.tensor import Tensor, wrap


def runner_source(
    n_args: int,
    n_captured: int,
    outputs: Sequence[tuple],
    result: str,
    n_mutated: int = 0,
    n_before: int = 0,
    n_after: int = 0,
    called: frozenset[int] = frozenset(),
) -> str:
    """The text of ``run(a0, a1, ...)``; ``outputs`` holds (shape, dtype name) pairs.

    The last ``n_mutated`` outputs are new values of mutated tensors ``S<k>``: the kernel
    writes them into buffers ``B<k>`` kept from call to call, which are then copied
    into their own arrays.  ``P<k>()`` run before the kernel, ``Q<k>()`` after.
    ``called`` lists captured tensors ``j`` (and mutated ones ``-1 - k``) that are getters.
    """
    params = ", ".join(f"a{i}" for i in range(n_args))
    lines = [f"def run({params}):"]
    lines += [f"    P{k}()" for k in range(n_before)]
    first_mutated = len(outputs) - n_mutated
    for k, (shape, dtype) in enumerate(outputs):
        source = f"B{k - first_mutated}" if k >= first_mutated else f"empty({shape!r}, {dtype})"
        lines.append(f"    o{k} = {source}")
    operands = [f"a{i}" for i in range(n_args)]
    operands += [f"c{j}{'()' if j in called else ''}._value" for j in range(n_captured)]
    operands += [f"o{k}" for k in range(len(outputs))]
    lines.append(f"    K.call({', '.join(operands)})")
    lines += [
        f"    copyto(S{k}{'()' if -1 - k in called else ''}._value, B{k})" for k in range(n_mutated)
    ]
    lines += [f"    Q{k}()" for k in range(n_after)]
    lines.append(f"    return {result}")
    return "\n".join(lines)


def make_runner(
    kernel: Kernel,
    n_args: int,
    captured: Sequence[Tensor],
    result: str,
    mutated: Sequence[Tensor] = (),
    before: Sequence[Callable[[], None]] = (),
    after: Sequence[Callable[[], None]] = (),
) -> Callable[..., Any]:
    """Compile the runner for ``kernel``; ``result`` is a Python expression over ``W(o<k>)``."""
    outputs = [(v.shape, f"d{k}") for k, v in enumerate(kernel.graph.outputs)]
    namespace: dict[str, Any] = {"empty": np.empty, "copyto": np.copyto, "K": kernel, "W": wrap}
    namespace.update({f"d{k}": v.dtype for k, v in enumerate(kernel.graph.outputs)})
    namespace.update({f"c{j}": t for j, t in enumerate(captured)})
    namespace.update({f"S{k}": t for k, t in enumerate(mutated)})
    shapes = [v for v in kernel.graph.outputs[len(kernel.graph.outputs) - len(mutated) :]]
    namespace.update({f"B{k}": np.empty(v.shape, v.dtype) for k, v in enumerate(shapes)})
    namespace.update({f"P{k}": hook for k, hook in enumerate(before)})
    namespace.update({f"Q{k}": hook for k, hook in enumerate(after)})
    called = frozenset(j for j, c in enumerate(captured) if not isinstance(c, Tensor))
    called |= frozenset(-1 - k for k, t in enumerate(mutated) if not isinstance(t, Tensor))
    source = runner_source(
        n_args, len(captured), outputs, result, len(mutated), len(before), len(after), called
    )
    exec(source, namespace)
    return namespace["run"]


def pack_expression(indices: Sequence[int], structure: str) -> str:
    """``W(o0)`` / ``(W(o0), W(o1))`` / ``[...]`` for outputs ``indices`` in ``structure``."""
    items = [f"W(o{k})" for k in indices]
    if structure == "none":
        return "None"
    if structure == "single":
        return items[0]
    if structure == "list":
        return "[" + ", ".join(items) + "]"
    return "(" + "".join(f"{item}, " for item in items) + ")"
