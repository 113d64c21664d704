"""Run a Python function on abstract tensors (shape + dtype, no values) and record its graph.

Tensors the function closes over (Parameters, data) are *captured*: each
becomes a graph input whose current array is read at every call, never a
baked-in constant.  Python numbers stay constants.

Example:
    >>> import numpy as np
    >>> t = trace(lambda a, b: 3*a**3 - b**2, [((2,), np.dtype('float64'))] * 2, ["a", "b"])
    >>> print(t.graph.pretty(t.input_names))
    { lambda a:f64[2] b:f64[2] .
      let t0:f64[2] = a**3
          t1:f64[2] = 3*t0
          t2:f64[2] = b**2
          t3:f64[2] = t1 - t2
      in (t3) }
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from symgrad import ir
from symgrad.errors import TraceError
from symgrad.state import STATE
from symgrad.tensor import Tensor

ArgSpec = tuple[tuple[int, ...], np.dtype]


class Trace:
    """The recording context: which concrete tensors the function captured."""

    def __init__(self) -> None:
        self.captured: dict[int, tuple[Tensor, ir.Var]] = {}

    def capture(self, tensor: Tensor) -> ir.Var:
        entry = self.captured.get(id(tensor))
        if entry is None:
            entry = self.captured[id(tensor)] = (
                tensor,
                ir.Var(tensor.shape, tensor.dtype, origin=tensor),
            )
        return entry[1]


@dataclass
class Traced:
    """A recorded function: its graph (arguments, then captured tensors, as inputs)."""

    graph: ir.Graph
    input_names: list[str]
    captured: list[Tensor]
    structure: str  # "single", "tuple" or "list": how to pack the outputs


def argument_names(fn: Callable, count: int) -> list[str]:
    """Parameter names of ``fn`` for ``count`` positional arguments (``x0, x1, ...`` if unknown)."""
    try:
        params = [
            p.name
            for p in inspect.signature(fn).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        params = []
    names = params[:count]
    for i in range(len(names), count):
        name = f"x{i}"
        while name in names:
            name += "_"
        names.append(name)
    return names


def trace(
    fn: Callable,
    specs: Sequence[ArgSpec],
    names: Sequence[str],
    requires_grad: Sequence[bool] | None = None,
) -> Traced:
    """Record ``fn`` called on abstract tensors with the given shapes and dtypes."""
    requires_grad = requires_grad or [False] * len(specs)
    args = []
    for (shape, dtype), rg in zip(specs, requires_grad, strict=True):
        var = ir.Var(shape, dtype)
        args.append(Tensor(None, rg, var=var, shape=shape, dtype=dtype))
    recording = Trace()
    previous, STATE.trace = STATE.trace, recording
    try:
        result = fn(*args)
        outputs, structure = _flatten(result)
        out_vars = [_output_var(t, recording) for t in outputs]
    finally:
        STATE.trace = previous
    captured = list(recording.captured.values())
    inputs = [a._var for a in args] + [var for _, var in captured]
    cap_names = [f"cap{k}" for k in range(len(captured))]
    return Traced(
        ir.Graph(inputs, out_vars),
        [*names, *cap_names],
        [t for t, _ in captured],
        structure,
    )


def _flatten(result: Any) -> tuple[list[Tensor], str]:
    if isinstance(result, Tensor):
        return [result], "single"
    if isinstance(result, tuple | list) and all(isinstance(r, Tensor) for r in result):
        return list(result), type(result).__name__
    raise TraceError(
        "a compiled function must return a Tensor or a tuple/list of Tensors, "
        f"got {type(result).__name__}"
    )


def _output_var(t: Tensor, recording: Trace) -> ir.Var:
    return t._var if t._value is None else recording.capture(t)


def pack(values: list, structure: str) -> Any:
    """Rebuild the function's return structure from flat outputs."""
    if structure == "single":
        return values[0]
    return tuple(values) if structure == "tuple" else list(values)
