"""``sg.autograd.grad``: gradients of recorded outputs with respect to chosen tensors.

As ``torch.autograd.grad``: nothing is accumulated into ``.grad``; the inputs may be
leaves or intermediate values; with ``create_graph=True`` the gradients are recorded
themselves, so they can be differentiated again.  Eagerly the gradient graph runs on
the interpreter; inside a traced function it becomes part of the trace.

Example:
    >>> import symgrad as sg
    >>> x = sg.tensor([1.0, 2.0], requires_grad=True)
    >>> (g,) = sg.autograd.grad((x**3).sum(), x, create_graph=True)
    >>> g, sg.autograd.grad(g.sum(), x)[0]
    (tensor([ 3., 12.], grad_fn=<recorded>), tensor([ 6., 12.]))
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from symgrad import ir
from symgrad.compiler import autodiff
from symgrad.errors import GradError, ShapeError, shape_str
from symgrad.frontend.apply import as_tensor
from symgrad.frontend.tensor import Tensor, leaf_var
from symgrad.recording import RECORDING
from symgrad.runtime.eager_backward import check_implicit_gradient, check_unchanged
from symgrad.runtime.interpreter import interpret


def _as_list(value: Tensor | Sequence[Tensor]) -> list[Tensor]:
    return [value] if isinstance(value, Tensor) else list(value)


def _cotangents(outputs: list[Tensor], grad_outputs) -> list[Tensor]:
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    grads = _as_list(grad_outputs) if not isinstance(grad_outputs, list | tuple) else grad_outputs
    if len(grads) != len(outputs):
        raise GradError(f"grad: {len(outputs)} outputs but {len(grads)} grad_outputs")
    result = []
    for out, g in zip(outputs, grads, strict=True):
        if g is None:
            check_implicit_gradient(out)
            g = Tensor(np.ones(out.shape, out.dtype))
        g = as_tensor(g)
        if g.shape != out.shape:
            raise ShapeError(
                f"grad_outputs has shape {shape_str(g.shape)} but the output has shape "
                f"{shape_str(out.shape)}"
            )
        result.append(g)
    return result


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Tensor | Sequence[Tensor | None] | None = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """The sum over ``outputs`` of ``d output / d input · grad_output``, one per input."""
    outs, ins = _as_list(outputs), _as_list(inputs)
    for out in outs:
        if not out.requires_grad:
            raise GradError("grad: an output does not require grad (no input needed it)")
    cotangents = _cotangents(outs, grad_outputs)
    out_vars = [leaf_var(o) for o in outs]
    ct_vars = [leaf_var(g) for g in cotangents]
    wrt = [leaf_var(x) for x in ins]
    grads = autodiff.vjp(out_vars, ct_vars, wrt)
    if not allow_unused and any(g is None for g in grads):
        raise GradError(
            "grad: an input was not used to compute the outputs; pass allow_unused=True"
        )
    if RECORDING.trace is not None:
        return tuple(
            None if g is None else Tensor(None, True, var=g, shape=g.shape, dtype=g.dtype)
            for g in grads
        )
    return _evaluate(grads, create_graph and RECORDING.grad_enabled)


def _evaluate(grads: list[ir.Var | None], record: bool) -> tuple[Tensor | None, ...]:
    """Values of the gradient Vars from the recorded values they read (interpreted)."""
    present = [g for g in grads if g is not None]
    nodes, leaves = ir.toposort(present)
    saved = [n.output for n in nodes if n.output.value is not None]
    graph = ir.Graph([*leaves, *saved], present, prune=True)
    arrays = []
    for var in graph.inputs:
        check_unchanged(var)
        arrays.append(var.value if var.producer is not None else var.origin._value)
    values = dict(zip(present, interpret(graph, arrays), strict=True))
    result: list[Tensor | None] = []
    for g in grads:
        if g is None:
            result.append(None)
            continue
        value = np.array(values[g], dtype=g.dtype)
        if record:
            tensor = Tensor(value, True, var=g)
            if g.producer is not None:
                g.value, g.version = value, (tensor._version, tensor._version.value)
            result.append(tensor)
        else:
            result.append(Tensor(value))
    return tuple(result)
