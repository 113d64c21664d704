"""Formulas that check themselves: their values against the gradient kernels and against
central finite differences of the function.

Example:
    >>> import numpy as np, symgrad as sg
    >>> from symgrad.formulas import formulas
    >>> f = formulas(lambda x: (sg.sin(x) * x).sum(), np.array([0.5, 1.0]), verify=True)
    >>> print(f)
    ∂f/∂x = x⊙cos(x) + sin(x)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from symgrad import ir
from symgrad.errors import GradError
from symgrad.runtime.interpreter import interpret
from symgrad.runtime.tiers import executable, requested_tier

if TYPE_CHECKING:
    from symgrad.formulas.result import Formulas

#: Finite differences per argument are taken at most at this many entries (chosen evenly).
MAX_PROBES = 64


@dataclass
class Check:
    """The traced forward graph, the gradient seed and the gradient Vars, for ``verify``."""

    forward: ir.Graph
    upstream: ir.Var
    grads: list[ir.Var | None]
    wrt: list[ir.Var]


def _input_arrays(formulas: Formulas, args: Sequence[Any]) -> list[np.ndarray]:
    from symgrad.formulas.result import check_arguments

    inputs = formulas._inputs
    arrays = check_arguments(inputs, args)
    arrays += [np.asarray(get()) for get in inputs.captured]
    forward = formulas._check.forward
    return [a.astype(v.dtype) for a, v in zip(arrays, forward.inputs, strict=True)]


def kernel_gradients(formulas: Formulas, args: Sequence[Any]) -> dict[str, np.ndarray]:
    """The gradients from the kernel built from the same gradient graph (all-ones seed)."""
    check = formulas._check
    arrays = _input_arrays(formulas, args)
    up = check.upstream
    present = [(v, g) for v, g in zip(check.wrt, check.grads, strict=True) if g is not None]
    names = dict(zip(check.wrt, formulas, strict=True))
    result = {names[v]: np.zeros(v.shape) for v in check.wrt}
    if not present:
        return result
    known = dict(zip(check.forward.inputs, arrays, strict=True))
    known[up] = np.ones(up.shape, up.dtype)
    graph = ir.Graph([*check.forward.inputs, up], [g for _, g in present], prune=True)
    inputs = [known[v] for v in graph.inputs]
    graph = graph.clone(values=False)
    tier = requested_tier()
    kernel = executable(
        graph,
        ["write"] * len(present),
        [f"x{i}" for i in range(len(inputs))],
        "sync" if tier == "background" else tier,
    )
    outs = [np.empty(g.shape, g.dtype) for _, g in present]
    kernel(*inputs, *outs)
    for (v, _), out in zip(present, outs, strict=True):
        result[names[v]] = np.asarray(out, dtype=np.float64)
    return result


def finite_differences(formulas: Formulas, args: Sequence[Any], h: float = 1e-6) -> dict:
    """Central differences of the sum of the function's entries, per argument: a dict of
    ``(indices, values)`` at up to :data:`MAX_PROBES` entries of each."""
    check = formulas._check
    arrays = [
        a.astype(np.float64) if a.dtype.kind == "f" else a for a in _input_arrays(formulas, args)
    ]
    graph = check.forward

    def total(values: list[np.ndarray]) -> float:
        with np.errstate(all="ignore"):
            return float(np.sum(interpret(graph, values)[0]))

    result = {}
    position = {v: i for i, v in enumerate(graph.inputs)}
    for name, var in zip(formulas, check.wrt, strict=True):
        i = position[var]
        base = arrays[i]
        flat = np.arange(base.size)
        if base.size > MAX_PROBES:
            flat = np.linspace(0, base.size - 1, MAX_PROBES).astype(int)
        values = []
        for k in flat:
            index = np.unravel_index(k, base.shape) if base.shape else ()
            step = h * max(1.0, abs(float(base[index])))
            up, down = base.copy(), base.copy()
            up[index] += step
            down[index] -= step
            plus = total([*arrays[:i], up, *arrays[i + 1 :]])
            minus = total([*arrays[:i], down, *arrays[i + 1 :]])
            values.append((plus - minus) / (2 * step))
        result[name] = (flat, np.array(values))
    return result


def _compare(name: str, what: str, ours: np.ndarray, theirs: np.ndarray, rtol, atol) -> None:
    scale = max(1.0, float(np.max(np.abs(theirs), initial=0.0, where=np.isfinite(theirs))))
    with np.errstate(invalid="ignore"):
        error = np.abs(ours - theirs) - (atol * scale + rtol * np.abs(theirs))
    bad = (error > 0) | (np.isfinite(ours) != np.isfinite(theirs))
    if bad.any():
        worst = int(np.argmax(np.where(bad, np.nan_to_num(error, nan=np.inf), -np.inf)))
        raise GradError(
            f"the formula for ∂/∂{name} differs from {what}: at flat index {worst} the "
            f"formula gives {ours.ravel()[worst]!r}, {what} {theirs.ravel()[worst]!r}"
        )


def verify_formulas(formulas: Formulas, args: Sequence[Any]) -> None:
    """Raise ``GradError`` unless the formulas agree with the kernels (to 1e-9 relative in
    float64, 1e-4 in float32) and with finite differences (to 1e-5)."""
    ours = formulas.evaluate(*args)
    kernels = kernel_gradients(formulas, args)
    numeric = finite_differences(formulas, args)
    check = formulas._check
    for name, var in zip(formulas, check.wrt, strict=True):
        tight = 1e-9 if var.dtype == np.float64 else 1e-4
        _compare(name, "the gradient kernel", ours[name], kernels[name], tight, tight)
        flat, values = numeric[name]
        loose = 1e-5 if var.dtype == np.float64 else 1e-2
        _compare(name, "finite differences", ours[name].ravel()[flat], values, loose, loose)
