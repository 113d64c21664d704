"""Eager ``backward()``: find or compile the gradient kernel of a recorded graph, then run it.

The recorded graph behind a tensor is keyed by its structure (ops, shapes,
dtypes, which leaves want gradients and whether their ``.grad`` exists yet),
never by values, so a training loop that rebuilds the same graph every step
compiles its backward kernel once.  The kernel reads the leaves, the saved
forward values and the upstream gradient, and accumulates into each leaf's
``.grad`` in place.

Example:
    >>> import symgrad as sg
    >>> x = sg.tensor([1., 2.], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    tensor([2., 4.])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from symgrad import ir
from symgrad.compiler import autodiff, passes
from symgrad.errors import GradError, ShapeError, shape_str
from symgrad.frontend.tensor import Tensor, leaf_var
from symgrad.runtime.tiers import executable, requested_tier


@dataclass(frozen=True)
class BackwardPlan:
    """A backward kernel (or its interpreted graph) and where each of its arrays comes from."""

    kernel: Any  # see runtime.tiers.executable
    sources: tuple[tuple, ...]  # per kernel input: ("leaf", i), ("node", j) or ("upstream",)
    targets: tuple[int, ...]  # per kernel output: the leaf whose .grad it fills
    untouched: tuple[int, ...]  # leaves wanting grad that the output does not depend on


_PLANS: dict[tuple, BackwardPlan] = {}
_SEEN: dict[tuple, int] = {}  # graph structure -> backward calls so far (compile what repeats)
MAX_REMEMBERED = 4096  # structures and plans kept; the oldest are forgotten first


def check_implicit_gradient(t: Tensor) -> None:
    """``backward()`` without ``gradient=`` needs a single-element output (as in PyTorch)."""
    if t.numel() != 1:
        raise GradError(
            f"backward() on a tensor of shape {shape_str(t.shape)} needs gradient= "
            "(a tensor of that shape); only single-element outputs get an implicit "
            "gradient of 1"
        )


def _upstream(t: Tensor, gradient) -> np.ndarray:
    if gradient is None:
        check_implicit_gradient(t)
        return np.ones(t.shape, t.dtype)
    g = np.asarray(gradient.numpy() if isinstance(gradient, Tensor) else gradient)
    if g.shape != t.shape:
        raise ShapeError(
            f"gradient has shape {shape_str(g.shape)} but the output has shape "
            f"{shape_str(t.shape)} in backward"
        )
    return g if g.dtype == t.dtype else g.astype(t.dtype)


def eager_backward(t: Tensor, gradient=None) -> None:
    """Accumulate ``d t / d leaf · gradient`` into the ``.grad`` of every leaf requiring grad."""
    if not t.requires_grad:
        raise GradError(
            "backward() on a tensor that does not require grad: no input of the computation "
            "has requires_grad=True"
        )
    upstream = _upstream(t, gradient)
    out = t._var if t._var is not None else leaf_var(t)
    nodes, leaves = ir.toposort([out])
    wants = [leaf.origin.requires_grad for leaf in leaves]
    modes = ["write" if leaf.origin.grad is None else "accumulate" for leaf in leaves]
    leaf_info = tuple(
        (v.shape, v.dtype.str, w, m) for v, w, m in zip(leaves, wants, modes, strict=True)
    )
    structure = ir.structure_key(leaves, nodes, [out])
    key = (structure, leaf_info, upstream.dtype.str)
    if any(_changed(n.output) for n in nodes) or any(_changed(v) for v in leaves):
        # Values changed in place since: only what the unfused gradient reads must be intact
        # (as in PyTorch); a fused kernel might read others, so interpret it unfused.
        plan = _build_plan(out, leaves, wants, modes, "interpret")
    else:
        plan = _PLANS.get(key) or _plan(key, structure, out, leaves, wants, modes)

    for leaf in leaves:
        if leaf.origin._value.shape != leaf.shape or leaf.origin._value.dtype != leaf.dtype:
            raise GradError(
                f"a tensor of shape {shape_str(leaf.shape)} used by this graph was replaced by "
                f"one of shape {shape_str(leaf.origin._value.shape)} (dtype "
                f"{leaf.origin._value.dtype}) before backward(); run the forward pass again"
            )
    arrays = []
    for source in plan.sources:
        if source[0] == "leaf":
            var = leaves[source[1]]
            arrays.append(var.origin._value)
        elif source[0] == "node":
            var = nodes[source[1]].output
            arrays.append(var.value)
        else:
            arrays.append(upstream)
            continue
        check_unchanged(var)
    buffers = [_grad_buffer(leaves[i].origin) for i in plan.targets]
    for i, buffer in zip(plan.targets, buffers, strict=True):
        if buffer.shape != leaves[i].shape:
            raise ShapeError(
                f"the .grad of a tensor of shape {shape_str(leaves[i].shape)} has shape "
                f"{shape_str(buffer.shape)}; set it to None (zero_grad) after resizing the tensor"
            )
    plan.kernel(*arrays, *buffers)
    for i in plan.untouched:
        _grad_buffer(leaves[i].origin, fill=0.0)


def _changed(var: ir.Var) -> bool:
    """Whether ``var``'s saved array was changed in place since it was recorded."""
    return var.version is not None and var.version[0].value != var.version[1]


def check_unchanged(var: ir.Var) -> None:
    """A value the gradient reads must not have been changed in place since it was recorded."""
    if _changed(var):
        counter, seen = var.version
        producer = var.producer
        if producer is None:
            what = "a leaf tensor"
        else:
            names = [f"x{i}" for i in range(len(producer.inputs))]
            what = f"the value `{producer.primitive.describe(producer, names)}`"
        raise GradError(
            f"{what} of shape {shape_str(var.shape)}, which the gradient needs, was modified by "
            f"an in-place operation after it was used (version {counter.value}, recorded at "
            f"{seen}); compute it again, or use an out-of-place op (y = y + 1, not y += 1)"
        )


def _grad_buffer(leaf: Tensor, fill: float | None = None) -> np.ndarray:
    if leaf.grad is None:
        buffer = (
            np.empty(leaf.shape, leaf.dtype)
            if fill is None
            else np.full(leaf.shape, fill, leaf.dtype)
        )
        leaf.grad = Tensor(buffer)
    return leaf.grad._value


def _plan(key: tuple, structure: tuple, out: ir.Var, leaves, wants, modes) -> BackwardPlan:
    """A structure seen once runs on the interpreter (unfused, nothing compiled), as a
    PyTorch eager backward would; one that repeats gets a kernel, kept for later calls."""
    tier = requested_tier()
    seen = _SEEN.pop(structure, 0)
    _SEEN[structure] = seen + 1
    for table in (_SEEN, _PLANS):
        while len(table) > MAX_REMEMBERED:
            del table[next(iter(table))]
    if tier == "background" and seen == 0:
        return _build_plan(out, leaves, wants, modes, "interpret")
    plan = _PLANS[key] = _build_plan(out, leaves, wants, modes, tier)
    return plan


def _build_plan(
    out: ir.Var, leaves: list[ir.Var], wants: list[bool], modes: list[str], tier: str
) -> BackwardPlan:
    recorded = ir.Graph(leaves, [out])
    positions = {v: ("leaf", i) for i, v in enumerate(leaves)}
    positions.update({n.output: ("node", j) for j, n in enumerate(recorded.nodes)})
    kept = {positions[n.output] for n in recorded.nodes if n.output.value is not None}
    forward = recorded.clone(origin=lambda v: positions[v], values=False)  # plans keep no arrays
    if tier != "interpret":
        forward = passes.prepare_forward(forward)
    upstream = ir.Var(out.shape, out.dtype, origin=("upstream",))
    wanted = [i for i, w in enumerate(wants) if w]
    grads = autodiff.vjp(forward.outputs, [upstream], [forward.inputs[i] for i in wanted])
    targets = [i for i, g in zip(wanted, grads, strict=True) if g is not None]
    untouched = [i for i, g in zip(wanted, grads, strict=True) if g is None]
    # Saved forward values are inputs; the few intermediates an op made without keeping a
    # value (the reshapes around a 1-D matmul, say) are recomputed inside the kernel.
    saved = [n.output for n in forward.nodes if n.output.origin in kept]
    available = [*forward.inputs, *saved, upstream]
    graph = ir.Graph(available, [g for g in grads if g is not None], prune=True)
    names = [_input_name(v.origin) for v in graph.inputs]
    kernel = executable(graph, [modes[i] for i in targets], names, tier)
    return BackwardPlan(
        kernel,
        tuple(v.origin for v in kernel.graph.inputs),
        tuple(targets),
        tuple(untouched),
    )


def _input_name(origin: tuple) -> str:
    kind = origin[0]
    if kind == "leaf":
        return f"x{origin[1]}"
    if kind == "node":
        return f"f{origin[1]}"
    return "g"


def plan_count() -> int:
    """How many backward plans this process keeps (one per repeated graph structure)."""
    return len(_PLANS)
