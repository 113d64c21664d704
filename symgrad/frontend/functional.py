"""Activations and losses with PyTorch's names and arguments.

This module is ``sg.functional``, also reachable as ``sg.nn.functional``.  The plain
elementwise activations (``relu``, ``sigmoid``, ``tanh``) are generated from the op
table (rows whose ``api`` lists ``"F"``).

Everything is written with symgrad's own ops, so it traces, differentiates and
fuses like user code.  The stable forms are used throughout: ``softmax`` and
``log_softmax`` subtract the row maximum, the logits losses never exponentiate
a large positive number, so logits of ±1000 give finite values and gradients (the
examples below call the functions by their names here: ``F.softmax`` elsewhere).
"""

from __future__ import annotations

import math
import warnings

from symgrad.errors import ShapeError, shape_str
from symgrad.frontend import reductions, shape_ops
from symgrad.frontend.apply import as_tensor, check_number, elementwise, mean, sum, table_function
from symgrad.frontend.attention import scaled_dot_product_attention
from symgrad.frontend.conv import conv1d, conv2d
from symgrad.frontend.nn_functional import batch_norm, dropout, embedding, layer_norm, linear, pad
from symgrad.frontend.pooling import (
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    avg_pool1d,
    avg_pool2d,
    max_pool1d,
    max_pool2d,
)
from symgrad.frontend.softmax import log_softmax, softmax
from symgrad.frontend.tensor import Tensor
from symgrad.ir.elementwise_ops import OPS
from symgrad.ir.shapes import broadcast_shapes, same_shape

_REDUCTIONS = ("mean", "sum", "none")

_TABLE = {name: table_function(row) for name, row in OPS.items() if "F" in row.api}
globals().update(_TABLE)


def softplus(x, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """``log(1 + exp(beta*x)) / beta``, linear where ``beta*x > threshold``, as PyTorch's."""
    check_number(beta, "beta", "softplus")
    check_number(threshold, "threshold", "softplus")
    return elementwise("softplus", as_tensor(x), beta, threshold)


def gelu(x, approximate: str = "none") -> Tensor:
    """Gaussian error linear unit ``x * Φ(x)``, as PyTorch's: exact or ``approximate='tanh'``."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return elementwise("gelu" if approximate == "none" else "gelu_tanh", as_tensor(x))


def silu(x) -> Tensor:
    """``x * sigmoid(x)``, as PyTorch's ``silu`` (also called swish)."""
    return elementwise("silu", as_tensor(x))


def leaky_relu(x, negative_slope: float = 0.01) -> Tensor:
    """``x`` for ``x > 0``, else ``negative_slope * x``, as PyTorch's ``leaky_relu``."""
    check_number(negative_slope, "negative_slope", "leaky_relu")
    return elementwise("leaky_relu", as_tensor(x), negative_slope)


def _reduce(loss: Tensor, reduction: str, op: str) -> Tensor:
    if reduction == "mean":
        return mean(loss)
    if reduction == "sum":
        return sum(loss)
    if reduction == "none":
        return loss
    raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _same_shape(op: str, input: Tensor, target: Tensor) -> None:
    if not same_shape(input.shape, target.shape):
        raise ShapeError(
            f"{op}: input {shape_str(input.shape)} and target {shape_str(target.shape)} "
            "must have the same shape"
        )


def _broadcast_target(op: str, input: Tensor, target: Tensor) -> None:
    """As PyTorch: a target of another shape is broadcast with a ``UserWarning`` (an
    ``(N, 1)`` prediction against ``(N,)`` targets makes ``(N, N)`` errors)."""
    if same_shape(input.shape, target.shape):
        return
    broadcast_shapes(op, input.shape, target.shape)  # ShapeError when they do not fit
    warnings.warn(
        f"{op}: using a target size {shape_str(target.shape)} that is different to the "
        f"input size {shape_str(input.shape)}. This will likely lead to incorrect results "
        "due to broadcasting. Please ensure they have the same size.",
        UserWarning,
        stacklevel=3,
    )


def mse_loss(input, target, reduction: str = "mean") -> Tensor:
    """The squared error ``(input - target)**2``, averaged (``reduction="mean"``), summed
    (``"sum"``) or kept per element (``"none"``), like PyTorch's ``mse_loss``.

    As in PyTorch, a target of another shape is broadcast against the input, with a
    ``UserWarning`` (almost always a bug: make the shapes equal).

    >>> import symgrad as sg
    >>> sg.functional.mse_loss(sg.tensor([1., 2.]), sg.tensor([0., 4.]))
    tensor(2.5)
    """
    input, target = as_tensor(input), as_tensor(target)
    _broadcast_target("mse_loss", input, target)
    diff = input - target
    return _reduce(diff * diff, reduction, "mse_loss")


def l1_loss(input, target, reduction: str = "mean") -> Tensor:
    """The absolute error ``|input - target|``, averaged, summed or kept (``reduction``),
    like PyTorch's ``l1_loss`` (a target of another shape is broadcast, with a warning,
    as :func:`mse_loss`).  Its gradient at 0 is 0.

    >>> import symgrad as sg
    >>> sg.functional.l1_loss(sg.tensor([1., 2.]), sg.tensor([0., 4.]))
    tensor(1.5)
    """
    input, target = as_tensor(input), as_tensor(target)
    _broadcast_target("l1_loss", input, target)
    return _reduce(elementwise("abs", input - target), reduction, "l1_loss")


def _check_labels(op: str, target: Tensor, classes: int, ignore_index: int) -> None:
    if target.is_traced:
        return  # the gather in the kernel checks the range
    labels = target.numpy()
    bad = (labels < 0) | (labels >= classes)
    bad &= labels != ignore_index
    if bad.any():
        raise IndexError(
            f"{op}: target {int(labels[bad][0])} is out of range for {classes} classes "
            f"(labels must be in 0..{classes - 1}, or ignore_index={ignore_index})"
        )


def nll_loss(
    input, target, weight=None, ignore_index: int = -100, reduction: str = "mean"
) -> Tensor:
    """Negative log-likelihood of integer class labels; ``input`` holds log-probabilities.

    ``input`` is ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)``; ``target`` has the same
    shape without the class dim.  As PyTorch's ``nll_loss``: ``weight`` per class, entries
    equal to ``ignore_index`` count for nothing (all ignored: nan), labels out of range raise.

    >>> nll_loss([[-0.5, -1.0], [-2.0, -0.1]], [0, 1]), nll_loss([[-0.5, -1.0]], [-100])
    (tensor(0.3), tensor(nan))
    """
    input, target = as_tensor(input), as_tensor(target)
    if target.dtype.kind not in "iu":
        raise ShapeError(f"nll_loss: target must hold integer class labels, got {target.dtype}")
    class_dim = 0 if input.ndim == 1 else 1
    expected = input.shape[:class_dim] + input.shape[class_dim + 1 :]
    if not same_shape(target.shape, expected):
        raise ShapeError(
            f"nll_loss: input {shape_str(input.shape)} needs target of shape "
            f"{shape_str(expected)}, got {shape_str(target.shape)}"
        )
    classes = input.shape[class_dim]
    _check_labels("nll_loss", target, classes, ignore_index)
    keep = target != ignore_index
    # Ignored entries read class 0 (and count for nothing); other negative labels become
    # `classes`, which the gather rejects, instead of wrapping around to the last class.
    safe = elementwise("where", keep, elementwise("where", target < 0, classes, target), 0)
    picked = reductions.take_along_dim(input, shape_ops.unsqueeze(safe, class_dim), class_dim)
    picked = shape_ops.squeeze(picked, class_dim)
    scale = keep.to(input.dtype)
    if weight is not None:
        scale = scale * shape_ops.getitem(as_tensor(weight).to(input.dtype), safe)
    loss = -picked * scale
    if reduction == "mean":
        # With every label ignored the mean is 0/0: nan, with a zero gradient (as PyTorch),
        # so the division the gradient flows through is by 1 there.
        total = sum(scale)
        empty = total == 0
        mean_loss = sum(loss) / elementwise("where", empty, 1, total)
        return elementwise("where", empty, math.nan, mean_loss)
    return _reduce(loss, reduction, "nll_loss")


def cross_entropy(
    input,
    target,
    weight=None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross entropy of logits against integer labels or class probabilities, as PyTorch's
    ``cross_entropy``: classes along dim 1 (dim 0 for one unbatched sample), with
    ``weight``, ``ignore_index``, ``reduction`` and ``label_smoothing``.

    Computed from ``log_softmax``, so logits of any size give finite values.

    >>> import symgrad as sg
    >>> logits = sg.tensor([[2., 0.], [0., 2.]])
    >>> round(sg.functional.cross_entropy(logits, sg.tensor([0, 1])).item(), 4)
    0.1269
    >>> sg.functional.cross_entropy(sg.tensor([[1000., -1000.]]), sg.tensor([1]))
    tensor(2000.)
    """
    input, target = as_tensor(input), as_tensor(target)
    class_dim = 0 if input.ndim == 1 else 1
    log_probs = log_softmax(input, class_dim)
    if target.dtype.kind in "iu":
        loss = nll_loss(log_probs, target, weight, ignore_index, reduction)
        if not label_smoothing:
            return loss
        smooth = _smoothing_term(log_probs, target, weight, ignore_index, reduction)
        return (1 - label_smoothing) * loss + smooth * (
            label_smoothing / log_probs.shape[class_dim]
        )
    _same_shape("cross_entropy", input, target)
    classes = input.shape[class_dim]
    if label_smoothing:
        target = target * (1 - label_smoothing) + label_smoothing / classes
    terms = log_probs * target
    if weight is not None:
        terms = terms * _class_weights(weight, log_probs, class_dim)
    return _reduce(-sum(terms, class_dim), reduction, "cross_entropy")


def _class_weights(weight, like: Tensor, class_dim: int) -> Tensor:
    """``weight`` (one per class) shaped to broadcast along ``like``'s class dim."""
    shape = [1] * like.ndim
    shape[class_dim] = like.shape[class_dim]
    return shape_ops.reshape(as_tensor(weight).to(like.dtype), shape)


def _smoothing_term(log_probs, target, weight, ignore_index: int, reduction: str) -> Tensor:
    """PyTorch's label-smoothing term for class-index targets: ``-sum_c w_c log p_c`` per
    entry, zero where the target is ignored; ``mean`` divides by the summed weights of
    the targets (their count without ``weight``), as the NLL term does."""
    class_dim = 0 if log_probs.ndim == 1 else 1
    terms = (
        log_probs if weight is None else log_probs * _class_weights(weight, log_probs, class_dim)
    )
    keep = target != ignore_index
    smooth = elementwise("where", keep, -sum(terms, class_dim), 0)
    if reduction != "mean":
        return _reduce(smooth, reduction, "cross_entropy")
    scale = keep.to(log_probs.dtype)
    if weight is not None:
        safe = elementwise("where", keep, target, 0)
        scale = scale * shape_ops.getitem(as_tensor(weight).to(log_probs.dtype), safe)
    total = sum(scale)
    empty = total == 0  # every target ignored: nan, with a zero gradient (as PyTorch)
    return elementwise(
        "where", empty, math.nan, sum(smooth) / elementwise("where", empty, 1, total)
    )


def binary_cross_entropy(input, target, weight=None, reduction: str = "mean") -> Tensor:
    """BCE of probabilities; each log is clamped at -100, as in PyTorch, and the gradient is
    PyTorch's: ``(p - t) / max(p*(1 - p), 1e-12)``, finite at ``p`` = 0 and 1.

    >>> binary_cross_entropy([0., 0.5, 1.], [0., 1., 0.], reduction="none")
    tensor([  0.        ,   0.69314718, 100.        ])
    """
    input, target = as_tensor(input), as_tensor(target)
    _same_shape("binary_cross_entropy", input, target)
    # One op, for PyTorch's gradient: (p - t) / max(p*(1 - p), 1e-12), finite at 0 and 1.
    loss = elementwise("binary_cross_entropy", input, target)
    if weight is not None:
        loss = loss * as_tensor(weight)
    return _reduce(loss, reduction, "binary_cross_entropy")


def binary_cross_entropy_with_logits(
    input, target, weight=None, reduction: str = "mean", pos_weight=None
) -> Tensor:
    """BCE of logits, ``(1 - t) * x + log(1 + exp(-x))`` computed stably, as PyTorch's
    ``binary_cross_entropy_with_logits``; ``pos_weight`` multiplies the positives' term.

    >>> binary_cross_entropy_with_logits([-1000., 0.], [0., 1.], reduction="none")
    tensor([0.        , 0.69314718])
    """
    input, target = as_tensor(input), as_tensor(target)
    _same_shape("binary_cross_entropy_with_logits", input, target)
    softplus_neg = elementwise("log1pexp", -input)
    if pos_weight is not None:
        softplus_neg = softplus_neg * (1 + (as_tensor(pos_weight).to(input.dtype) - 1) * target)
    loss = (1 - target) * input + softplus_neg
    if weight is not None:
        loss = loss * as_tensor(weight)
    return _reduce(loss, reduction, "binary_cross_entropy_with_logits")


__all__ = [  # what sg.nn.functional re-exports
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "batch_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "conv1d",
    "conv2d",
    "cross_entropy",
    "dropout",
    "embedding",
    "gelu",
    "l1_loss",
    "layer_norm",
    "leaky_relu",
    "linear",
    "log_softmax",
    "max_pool1d",
    "max_pool2d",
    "mse_loss",
    "nll_loss",
    "pad",
    "scaled_dot_product_attention",
    "silu",
    "softmax",
    "softplus",
    *_TABLE,  # relu, sigmoid, tanh
]
