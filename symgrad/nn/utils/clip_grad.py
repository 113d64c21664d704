"""Gradient clipping: ``clip_grad_norm_`` and ``clip_grad_value_``, as PyTorch's.

The gradients are changed in place with tensor ops, so inside a compiled training
step the clipping is recorded into the step's kernel (each ``.grad`` is kernel
state, as in the optimizers' ``step()``), and the total norm is a traced tensor.

Example:
    >>> import symgrad as sg
    >>> w = sg.tensor([1.0, -2.0], requires_grad=True)
    >>> (w * 3).sum().backward()
    >>> clip_grad_value_([w], 1.0)
    >>> w.grad
    tensor([1., 1.])
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from symgrad.errors import UnsupportedOpError
from symgrad.frontend import math as sgmath
from symgrad.frontend.tensor import Tensor
from symgrad.recording import no_grad

Parameters = Tensor | Iterable[Tensor]


def _grads(parameters: Parameters) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def _scale_to_norm(grads: list[Tensor], max_norm: float, total_norm: Tensor) -> None:
    with no_grad():
        coef = sgmath.clamp(float(max_norm) / (total_norm + 1e-6), max=1.0)
        for g in grads:
            g.mul_(coef.to(g.dtype))


def _vector_norm(x: Tensor, p: float) -> Tensor:
    """The ``p``-norm of all of ``x``'s entries (``torch.linalg.vector_norm``)."""
    if p == math.inf:
        return sgmath.amax(x.abs())
    if p == -math.inf:
        return sgmath.amin(x.abs())
    if p == 0:
        return sgmath.sum((x != 0).to(x.dtype))
    if p == 1:
        return sgmath.sum(x.abs())
    if p == 2:
        return sgmath.sqrt(sgmath.sum(x * x))
    return sgmath.sum(x.abs() ** p) ** (1.0 / p)


def get_total_norm(
    tensors: Parameters,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """The ``norm_type``-norm of the norms of ``tensors`` (the norm of all their entries).

    >>> import symgrad as sg
    >>> get_total_norm([sg.tensor([3.0]), sg.tensor([4.0])])
    tensor(5.)
    """
    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if not tensors:
        return Tensor(np.array(0.0))
    p = float(norm_type)
    with no_grad():
        norms = [_vector_norm(t, p) for t in tensors]
        total = _vector_norm(sgmath.stack([n.to(norms[0].dtype) for n in norms]), p)
    if error_if_nonfinite:
        if total.is_traced:
            raise UnsupportedOpError(
                "clip_grad_norm_: error_if_nonfinite=True needs the norm's value, which a "
                "compiled function does not have while tracing; leave it False there"
            )
        if not np.isfinite(total.item()):
            raise RuntimeError(
                f"The total norm of order {p} for gradients from `parameters` is non-finite, "
                "so it cannot be clipped. To disable this error and scale the gradients by "
                "the non-finite norm anyway, set `error_if_nonfinite=False`"
            )
    return total


def clip_grads_with_norm_(
    parameters: Parameters, max_norm: float, total_norm: Tensor, foreach: bool | None = None
) -> None:
    """Scale the gradients in place by ``min(1, max_norm / (total_norm + 1e-6))``, with
    ``total_norm`` from :func:`get_total_norm` (the second half of
    :func:`clip_grad_norm_`).  Parameters without a ``.grad`` are skipped; ``foreach``
    is accepted and ignored.

    >>> import symgrad as sg
    >>> w = sg.tensor([3.0, 4.0], requires_grad=True)
    >>> (w * w).sum().backward()
    >>> clip_grads_with_norm_([w], 5.0, get_total_norm([w.grad]))
    >>> w.grad
    tensor([2.9999997, 3.9999996])
    """
    grads = _grads(parameters)
    if grads:
        _scale_to_norm(grads, max_norm, total_norm)


def clip_grad_norm_(
    parameters: Parameters,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach: bool | None = None,
) -> Tensor:
    """Rescale the gradients so that their total ``norm_type``-norm is at most ``max_norm``;
    returns the total norm before clipping (a 0-d tensor), as PyTorch.

    >>> import symgrad as sg
    >>> w = sg.tensor([3.0, 4.0], requires_grad=True)
    >>> w.sum().backward()
    >>> clip_grad_norm_(w, 1.0, norm_type=float("inf")), w.grad
    (tensor(1.), tensor([0.999999, 0.999999]))
    """
    grads = _grads(parameters)
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    if grads:
        _scale_to_norm(grads, max_norm, total)
    return total


def clip_grad_value_(
    parameters: Parameters, clip_value: float, foreach: bool | None = None
) -> None:
    """Clamp every gradient entry into ``[-clip_value, clip_value]`` in place; parameters
    without a ``.grad`` are skipped and ``foreach`` is ignored.

    >>> import symgrad as sg
    >>> w = sg.tensor([1.0, -2.0], requires_grad=True)
    >>> (w * w).sum().backward()
    >>> clip_grad_value_(w, 0.5)
    >>> w.grad
    tensor([ 0.5, -0.5])
    """
    value = float(clip_value)
    with no_grad():
        for g in _grads(parameters):
            g.clamp_(-value, value)


__all__ = ["clip_grad_norm_", "clip_grad_value_", "clip_grads_with_norm_", "get_total_norm"]
