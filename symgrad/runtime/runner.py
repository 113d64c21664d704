"""Per-signature call wrappers: a few lines of generated Python around one kernel call.

A runner checks that every tensor the function captured (Parameters, ``.grad``,
optimizer buffers, re-read at each call) still has the shape and dtype it was traced
with, allocates the output arrays, calls the kernel with the arguments, the captured
arrays and the outputs, and packs the outputs into the function's return structure,
with no loops or ``*`` unpacking on the hot path.  A captured tensor that changed
raises :class:`StaleCapture`, and the compiled function traces again: a kernel never
reads or writes past the end of an array.

Example:
    >>> print(runner_source(2, 1, [((3,), "d0")], "W(o0)"))
    def run(a0, a1):
        v0 = c0._value
        if v0.shape != s0 or v0.dtype is not e0:
            stale(0)
        o0 = empty((3,), d0)
        K.call(a0, a1, v0, o0)
        return W(o0)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from symgrad.frontend.reach import BROKEN, expression
from symgrad.frontend.tensor import Tensor, wrap
from symgrad.ir.size_rewrite import free_sizes


class StaleCapture(Exception):
    """A captured tensor no longer has the shape or dtype the kernel was traced for."""


def _stale(j: int) -> None:
    raise StaleCapture(j)


def runner_source(
    n_args: int,
    n_captured: int,
    outputs: Sequence[tuple],
    result: str,
    n_mutated: int = 0,
    n_before: int = 0,
    n_after: int = 0,
    called: frozenset[int] = frozenset(),
    reached: Sequence[str | None] = (),
    sizes: Sequence[tuple[str, int, int]] = (),
    written: Sequence[int] = (),
) -> str:
    """The text of ``run(a0, a1, ...)``; ``outputs`` holds (shape, dtype name) pairs.

    The last ``n_mutated`` outputs are new values of mutated tensors ``S<k>``: the kernel
    writes them into buffers ``B<k>`` kept from call to call, which are then copied
    into their own arrays.  ``P<k>()`` run before the kernel, ``Q<k>()`` after.
    ``called`` lists captured tensors ``j`` (and mutated ones ``-1 - k``) that are getters.
    Captured array ``v<j>`` must have shape ``s<j>`` and dtype ``e<j>``, and captured
    tensor ``j`` must still be what ``reached[j]`` (code over the function ``F``) leads to.
    ``sizes`` names the free sizes of output shapes: (name, argument, dim) to read them from.
    The very last outputs are new values of the arguments ``written`` (changed in place by
    the function), copied into their arrays.
    """
    params = ", ".join(f"a{i}" for i in range(n_args))
    lines = [f"def run({params}):"]
    lines += [f"    P{k}()" for k in range(n_before)]
    paths = [f"{text} is not c{j}" for j, text in enumerate(reached) if text is not None]
    if paths:
        lines.append("    try:")
        lines.append(f"        if {' or '.join(paths)}:")
        lines.append("            stale(-1)")
        lines.append("    except BROKEN:")
        lines.append("        stale(-1)")
    for j in range(n_captured):
        if j in called:  # read through a getter (``p.grad``): it may have gone
            lines.append(f"    v{j} = c{j}()")
            lines.append(f"    if v{j} is None:")
            lines.append(f"        stale({j})")
            lines.append(f"    v{j} = v{j}._value")
        else:
            lines.append(f"    v{j} = c{j}._value")
        lines.append(f"    if v{j}.shape != s{j} or v{j}.dtype is not e{j}:")
        lines.append(f"        stale({j})")
    lines += [f"    {name} = a{i}.shape[{d}]" for name, i, d in sizes]
    first_written = len(outputs) - len(written)
    first_mutated = first_written - n_mutated
    for k, (shape, dtype) in enumerate(outputs):
        mutated = first_mutated <= k < first_written
        source = f"B{k - first_mutated}" if mutated else f"empty({shape!r}, {dtype})"
        lines.append(f"    o{k} = {source}")
    operands = [f"a{i}" for i in range(n_args)]
    operands += [f"v{j}" for j in range(n_captured)]
    operands += [f"o{k}" for k in range(len(outputs))]
    lines.append(f"    K.call({', '.join(operands)})")
    for k in range(n_mutated):
        target = f"S{k}{'()' if -1 - k in called else ''}"
        lines.append(f"    copyto({target}._value, B{k})")
        lines.append(f"    {target}._version.bump()")
    lines += [f"    copyto(a{i}, o{first_written + k})" for k, i in enumerate(written)]
    lines += [f"    Q{k}()" for k in range(n_after)]
    lines.append(f"    return {result}")
    return "\n".join(lines)


def make_runner(
    kernel: Any,
    n_args: int,
    captured: Sequence[Tensor],
    result: str,
    mutated: Sequence[Tensor] = (),
    before: Sequence[Callable[[], None]] = (),
    after: Sequence[Callable[[], None]] = (),
    reached: tuple[Callable, Sequence] | None = None,
    names: dict[str, Any] | None = None,
    written: Sequence[int] = (),
) -> Callable[..., Any]:
    """Compile the runner for ``kernel``; ``result`` is a Python expression over ``W(o<k>)``
    (and ``names``, ``X<k>`` objects it refers to: a pytree's namedtuple classes, keys).

    ``reached`` is the traced function and, per captured tensor, the path it was read
    through (or None), from :func:`symgrad.frontend.reach.find_paths`.  ``written``
    lists the arguments the function changes in place (their new values come last).
    """
    outputs = [(v.shape, f"d{k}") for k, v in enumerate(kernel.graph.outputs)]
    namespace: dict[str, Any] = {
        "empty": np.empty,
        "copyto": np.copyto,
        "K": kernel,
        "W": wrap,
        "stale": _stale,
        "BROKEN": BROKEN,
        **(names or {}),
    }
    texts: list[str | None] = []
    if reached is not None:
        namespace["F"], paths = reached
        texts = [None if path is None else expression(path) for path in paths]
    namespace.update({f"d{k}": v.dtype for k, v in enumerate(kernel.graph.outputs)})
    namespace.update({f"c{j}": t for j, t in enumerate(captured)})
    for j, var in enumerate(kernel.graph.inputs[n_args : n_args + len(captured)]):
        namespace[f"s{j}"], namespace[f"e{j}"] = var.shape, var.dtype
        if not all(isinstance(n, int) for n in var.shape):
            raise AssertionError(f"captured tensor {j} has a symbolic shape {var.shape}")
    namespace.update({f"S{k}": t for k, t in enumerate(mutated)})
    end = len(kernel.graph.outputs) - len(written)
    shapes = kernel.graph.outputs[end - len(mutated) : end]
    namespace.update({f"B{k}": np.empty(v.shape, v.dtype) for k, v in enumerate(shapes)})
    namespace.update({f"P{k}": hook for k, hook in enumerate(before)})
    namespace.update({f"Q{k}": hook for k, hook in enumerate(after)})
    called = frozenset(j for j, c in enumerate(captured) if not isinstance(c, Tensor))
    called |= frozenset(-1 - k for k, t in enumerate(mutated) if not isinstance(t, Tensor))
    source = runner_source(
        n_args,
        len(captured),
        outputs,
        result,
        len(mutated),
        len(before),
        len(after),
        called,
        texts,
        [(s.name, i, d) for s, i, d in free_sizes(kernel.graph)],
        written,
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
