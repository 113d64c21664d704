"""``softmax`` and ``log_softmax`` in their stable forms (the row maximum taken out first),
with PyTorch's names and its choice of dim when none is given (``sg.functional`` and
``sg`` export them).

Example:
    >>> softmax([1.0, 1.0])
    tensor([0.5, 0.5])
"""

from __future__ import annotations

from symgrad.frontend import reductions
from symgrad.frontend.apply import as_tensor, elementwise, sum
from symgrad.frontend.tensor import Tensor


def _softmax_dim(x: Tensor, dim: int | None) -> int:
    if dim is not None:
        return dim
    return 0 if x.ndim in (0, 1, 3) else 1  # PyTorch's choice when dim is not given


def softmax(x, dim: int | None = None) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``dim``, with the maximum taken out first, so large
    logits neither overflow nor lose their gradient.

    Without ``dim``, PyTorch's legacy choice (dim 0 for 0-, 1- and 3-D input, else 1);
    pass ``dim`` explicitly.

    >>> import symgrad as sg
    >>> sg.softmax(sg.tensor([[0., 0.], [1000., 0.]]), dim=1)
    tensor([[0.5, 0.5],
            [1. , 0. ]])
    """
    x = as_tensor(x)
    d = _softmax_dim(x, dim)
    peak = reductions.amax(x, d, keepdim=True).detach()
    e = elementwise("exp", x - peak)
    return e / sum(e, d, True)


def log_softmax(x, dim: int | None = None) -> Tensor:
    """``x - logsumexp(x)`` along ``dim``, as ``(x - max) - log(sum(exp(x - max)))`` so that
    large logits keep their precision; PyTorch's ``log_softmax`` (``dim`` as :func:`softmax`).

    >>> log_softmax([[0., 0.], [1000., 0.]], dim=1)[1]
    tensor([    0., -1000.])
    """
    x = as_tensor(x)
    d = _softmax_dim(x, dim)
    shifted = x - reductions.amax(x, d, keepdim=True).detach()
    return shifted - elementwise("log", sum(elementwise("exp", shifted), d, True))
