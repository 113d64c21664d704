"""``loss.backward()`` inside a traced function: gradients become part of the recorded graph.

The gradient of the loss with respect to every captured leaf that requires grad
(the model's Parameters) is derived on the graph recorded so far and added to
that leaf's ``.grad``, which becomes state of the compiled kernel: written back
into the ``.grad`` array after every call.  A ``.grad`` that does not exist yet
is created (zeros) while tracing and re-attached after each call.

Example:
    >>> import numpy as np, symgrad as sg
    >>> w = sg.tensor([1.0, 2.0], requires_grad=True)
    >>> @sg.compile
    ... def step(x):
    ...     w.grad = None
    ...     loss = (w * x).sum()
    ...     loss.backward()
    ...     return loss
    >>> step(np.array([3.0, 4.0])), w.grad
    (tensor(11.), tensor([3., 4.]))
"""

from __future__ import annotations

import numpy as np
import sympy

from symgrad import ir
from symgrad.compiler import autodiff
from symgrad.errors import ShapeError, shape_str
from symgrad.frontend.apply import as_tensor
from symgrad.frontend.tensor import Tensor, leaf_var
from symgrad.recording import RECORDING
from symgrad.runtime.eager_backward import check_implicit_gradient


def traced_backward(t: Tensor, gradient=None) -> None:
    """Record ``t.backward(gradient)`` into the active trace."""
    trace = RECORDING.trace
    if gradient is None:
        check_implicit_gradient(t)
        upstream = ir.elementwise(sympy.Integer(1), [], shape=t.shape, dtype=t.dtype)
    else:
        gradient = as_tensor(gradient)
        if gradient.shape != t.shape:
            raise ShapeError(
                f"gradient has shape {shape_str(gradient.shape)} but the output has shape "
                f"{shape_str(t.shape)} in backward"
            )
        upstream = leaf_var(gradient)
    leaves = [
        tensor for tensor, _ in trace.captured.items() if tensor.requires_grad and tensor.is_leaf
    ]
    grads = autodiff.vjp([t._var], [upstream], [trace.capture(p) for p in leaves])
    for leaf, grad in zip(leaves, grads, strict=True):
        if grad is not None:
            _accumulate(trace, leaf, grad)


def _accumulate(trace, leaf: Tensor, grad: ir.Var) -> None:
    if leaf not in trace.written_grads:
        # The graph depends on whether .grad existed when the function was entered.
        trace.guard(lambda leaf=leaf: leaf._grad is None)
    existing = leaf._grad
    if existing is None:
        holder = Tensor(np.zeros(leaf.shape, leaf.dtype))
        leaf.grad = holder
        trace.assign(holder, grad)
        trace.after_call.append(lambda leaf=leaf, holder=holder: setattr(leaf, "_grad", holder))
        return
    trace.reached_through(existing, lambda leaf=leaf: leaf._grad)
    total = ir.elementwise(ir.arg(0) + ir.arg(1), [trace.capture(existing), grad])
    trace.assign(existing, total)
