"""Layer functions with PyTorch's names: ``linear``, ``dropout``, ``embedding``, ``pad``,
``layer_norm`` and ``batch_norm`` (part of ``sg.functional`` / ``sg.nn.functional``).

Each is composed from symgrad's differentiable ops (``getitem`` gathers, reductions,
elementwise ``where``), so gradients come from the existing rules and the functions
trace into compiled steps like user code.

Example:
    >>> import symgrad as sg
    >>> w = sg.tensor([[0.0, 0.0], [1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    >>> embedding(sg.tensor([[2, 0], [1, 1]]), w, padding_idx=0).shape
    (2, 2, 2)
    >>> linear(sg.ones(2, 3), sg.ones(4, 3), bias=sg.zeros(4))
    tensor([[3., 3., 3., 3.],
            [3., 3., 3., 3.]])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from symgrad.errors import ShapeError, UnsupportedOpError, shape_str
from symgrad.frontend import creation, shape_ops
from symgrad.frontend.apply import as_tensor, elementwise, mean
from symgrad.frontend.tensor import Tensor
from symgrad.recording import RECORDING, no_grad


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """``input @ weight.T + bias``, as ``torch.nn.functional.linear``: ``weight`` is
    ``(out_features, in_features)`` (or 1-D, for one output without that dim) and
    ``input`` any ``(..., in_features)``; a mismatch raises ``ShapeError``.

    >>> import symgrad as sg
    >>> linear(sg.ones(4, 3), sg.ones(2, 3)).shape, linear(sg.ones(3), sg.ones(3), sg.tensor(1.))
    ((4, 2), tensor(4.))
    """
    input, weight = as_tensor(input), as_tensor(weight)
    if weight.ndim not in (1, 2) or input.ndim == 0 or input.shape[-1] != weight.shape[-1]:
        raise ShapeError(
            f"linear: input {shape_str(input.shape)} and weight {shape_str(weight.shape)} "
            f"do not match (weight must be (out_features, {input.shape[-1:]}))"
        )
    out = shape_ops.matmul(input, shape_ops.matrix_transpose(weight))
    return out if bias is None else out + as_tensor(bias)


def _dropout_mask(p: float, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    keep = creation.generator().random(shape) >= p
    scale = 0.0 if p == 1 else 1.0 / (1.0 - p)
    return np.where(keep, scale, 0.0).astype(dtype)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability ``p`` and scale the rest by ``1/(1-p)`` when
    ``training``, as ``torch.nn.functional.dropout`` (the mask comes from the default
    generator, see ``sg.manual_seed``); inside ``sg.compile`` the mask is a kernel input
    drawn before each call, so a compiled step draws a new one every time.  ``inplace``
    is accepted for compatibility; the result is always a new tensor.

    >>> dropout(creation.ones(3), 0.5, training=False)
    tensor([1., 1., 1.])
    """
    if p < 0 or p > 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    input = as_tensor(input)
    if not training or p == 0:
        return input
    trace = RECORDING.trace
    if trace is None:
        return input * Tensor(_dropout_mask(p, input.shape, input.dtype))
    mask = Tensor(np.zeros(input.shape, input.dtype))
    trace.before_call.append(
        lambda: np.copyto(mask.numpy(), _dropout_mask(p, mask.shape, mask.dtype))
    )
    return input * mask


def embedding(
    input: Tensor,
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """Rows of ``weight`` picked by integer ``input`` (any shape), as
    ``torch.nn.functional.embedding``: the result has shape ``input.shape +
    (embedding_dim,)``.  The row ``padding_idx`` gets no gradient; ``max_norm``,
    ``scale_grad_by_freq`` and ``sparse`` raise ``UnsupportedOpError``.

    An index outside ``0..num_embeddings-1`` is an ``IndexError`` (in a compiled
    function, raised by the kernel's bounds check).

    >>> embedding(creation.tensor([2, 0]), creation.tensor([[1.0], [2.0], [3.0]]))
    tensor([[3.],
            [1.]])
    """
    input, weight = as_tensor(input), as_tensor(weight)
    if input.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be an integer tensor, got {input.dtype}")
    if weight.ndim != 2:
        raise ShapeError(
            f"embedding: weight must be 2-D (num_embeddings, embedding_dim), "
            f"got {shape_str(weight.shape)}"
        )
    if max_norm is not None or scale_grad_by_freq or sparse:
        raise UnsupportedOpError(
            "embedding: max_norm, scale_grad_by_freq and sparse are not supported"
        )
    count = int(weight.shape[0])  # a constant of the graph (a compiled trace specialises it)
    if padding_idx is not None:
        if not -count <= padding_idx < count:
            raise ValueError(f"embedding: padding_idx must be within num_embeddings ({count})")
        padding_idx %= count
    if input.is_traced:
        # Negative indices would wrap around in the gather: send them out of range instead.
        index = elementwise("where", input < 0, count, input)
    else:
        labels = input.numpy()
        bad = (labels < 0) | (labels >= count)
        if bad.any():
            raise IndexError(
                f"embedding: index {int(labels[bad].flat[0])} is out of range for "
                f"{count} embeddings (indices must be in 0..{count - 1})"
            )
        index = input
    out = shape_ops.getitem(weight, index)
    if padding_idx is not None and (out.requires_grad or out.is_traced):
        keep = shape_ops.unsqueeze(input != padding_idx, -1)
        out = elementwise("where", keep, out, out.detach())
    return out


def _normalize(x: Tensor, dims: tuple[int, ...], eps: float) -> tuple[Tensor, Tensor, Tensor]:
    """``(x - mean) / sqrt(var + eps)`` over ``dims`` (biased variance), with the
    mean and the biased variance (kept dims)."""
    mu = mean(x, dims, True)
    centered = x - mu
    var = mean(centered * centered, dims, True)
    return centered / elementwise("sqrt", var + eps), mu, var


def layer_norm(
    input: Tensor,
    normalized_shape: int | Sequence[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize over the last ``len(normalized_shape)`` dims (to mean 0 and biased
    variance 1, with ``eps`` added to the variance), then scale by ``weight`` and shift by
    ``bias`` (both of ``normalized_shape``), as ``torch.nn.functional.layer_norm``.

    >>> import symgrad as sg
    >>> layer_norm(sg.tensor([[1.0, 3.0]]), 2, eps=0.0)
    tensor([[-1.,  1.]])
    >>> layer_norm(sg.tensor([[1.0, 3.0]]), [2], sg.tensor([2., 2.]), sg.tensor([0., 1.]), 0.)
    tensor([[-2.,  3.]])
    """
    input = as_tensor(input)
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or input.ndim < k or tuple(input.shape[input.ndim - k :]) != shape:
        raise ShapeError(
            f"layer_norm: normalized_shape {list(shape)} must be the trailing dims of the "
            f"input, got input of shape {shape_str(input.shape)}"
        )
    for name, param in (("weight", weight), ("bias", bias)):
        if param is not None and as_tensor(param).shape != shape:
            raise ShapeError(
                f"layer_norm: {name} of shape {shape_str(as_tensor(param).shape)} must have "
                f"the normalized shape {shape_str(shape)}"
            )
    out, _, _ = _normalize(input, tuple(range(input.ndim - k, input.ndim)), eps)
    if weight is not None:
        out = out * as_tensor(weight)
    if bias is not None:
        out = out + as_tensor(bias)
    return out


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None = None,
    running_var: Tensor | None = None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float | Tensor = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalize each channel (dim 1) with the batch's statistics (``training``) or the
    running ones; in training the running statistics are updated in place with
    ``momentum`` and the unbiased batch variance, as ``torch.nn.functional.batch_norm``.
    ``weight`` and ``bias`` are per channel.  Training needs more than one value per
    channel; evaluation needs the running statistics.

    >>> mean, var = creation.zeros(2), creation.ones(2)
    >>> batch_norm(creation.tensor([[1.0, 2.0], [3.0, 6.0]]), mean, var, training=True, eps=0)
    tensor([[-1., -1.],
            [ 1.,  1.]])
    >>> mean, var  # moved 10% of the way to the batch's mean and unbiased variance
    (tensor([0.2, 0.4]), tensor([1.1, 1.7]))
    """
    input = as_tensor(input)
    if input.ndim < 2:
        raise ShapeError(
            f"batch_norm: input must have a channel dim (N, C, ...), got {shape_str(input.shape)}"
        )
    channels = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var)):
        if t is not None and as_tensor(t).shape != (channels,):
            raise ShapeError(
                f"batch_norm: {name} of shape {shape_str(as_tensor(t).shape)} does not match "
                f"the {channels} channels of input {shape_str(input.shape)}"
            )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and as_tensor(t).shape != (channels,):
            raise ShapeError(
                f"batch_norm: {name} of shape {shape_str(as_tensor(t).shape)} does not match "
                f"the {channels} channels of input {shape_str(input.shape)}"
            )
    dims = (0, *range(2, input.ndim))
    if training:
        count = input.numel() // channels if channels else 0
        if count <= 1:
            raise ValueError(
                "batch_norm: expected more than 1 value per channel when training, got input "
                f"of shape {shape_str(input.shape)}"
            )
        out, mu, var = _normalize(input, dims, eps)
        if running_mean is not None and running_var is not None:
            with no_grad():
                mu = shape_ops.reshape(mu.detach(), channels)
                unbiased = shape_ops.reshape(var.detach(), channels) * (count / (count - 1))
                running_mean.copy_(running_mean * (1 - momentum) + mu * momentum)
                running_var.copy_(running_var * (1 - momentum) + unbiased * momentum)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var are needed in eval mode")
        mu, var = _per_channel(running_mean, input.ndim), _per_channel(running_var, input.ndim)
        out = (input - mu) / elementwise("sqrt", var + eps)
    if weight is not None:
        out = out * _per_channel(weight, input.ndim)
    if bias is not None:
        out = out + _per_channel(bias, input.ndim)
    return out


def _per_channel(t, ndim: int) -> Tensor:
    """A ``(C,)`` tensor viewed as ``(1, C, 1, ...)`` (with its own size ``C``)."""
    t = as_tensor(t)
    return shape_ops.reshape(t, (1, *t.shape, *(1,) * (ndim - 2)))


_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def _pad_index(size: int, before: int, after: int, mode: str) -> np.ndarray:
    """Source positions for a padded dim: ``before`` new entries, the dim, ``after`` more."""
    positions = np.arange(-before, size + after)
    if mode == "replicate":
        return np.clip(positions, 0, size - 1)
    if mode == "circular":
        return positions % size
    period = 2 * (size - 1)  # reflect, edge not repeated
    folded = np.abs(positions) % period if period else np.zeros_like(positions)
    return np.where(folded >= size, period - folded, folded)


def pad(
    input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None
) -> Tensor:
    """Pad the last dims: ``pad = (last_before, last_after, second_last_before, ...)``.

    ``mode`` is ``'constant'`` (with ``value``, default 0; negative sizes crop),
    ``'reflect'``, ``'replicate'`` or ``'circular'``, as ``torch.nn.functional.pad``.  The
    non-constant modes read the padded dims' sizes as numbers, so inside ``@sg.compile``
    a new size of those dims traces again.

    >>> import symgrad as sg
    >>> pad(sg.tensor([[1.0, 2.0]]), (1, 2), value=9.0)
    tensor([[9., 1., 2., 9., 9.]])
    >>> pad(sg.tensor([[1.0, 2.0, 3.0]]), (2, 1), mode="reflect")
    tensor([[3., 2., 1., 2., 3., 2.]])
    """
    x = as_tensor(input)
    sizes = [int(n) for n in pad]
    if len(sizes) % 2 or len(sizes) // 2 > x.ndim:
        raise ShapeError(
            f"pad: {len(sizes)} pad sizes must come in pairs for at most the {x.ndim} dims of "
            f"{shape_str(x.shape)}"
        )
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: mode must be one of {_PAD_MODES}, got {mode!r}")
    if mode != "constant" and value:
        raise ValueError(f"pad: padding mode {mode!r} doesn't take in value argument")
    for k in range(len(sizes) // 2):
        dim = x.ndim - 1 - k
        before, after = sizes[2 * k], sizes[2 * k + 1]
        if mode == "constant":
            x = _pad_constant(x, dim, before, after, 0.0 if value is None else value)
            continue
        size = int(x.shape[dim])  # the index array needs it: a compiled trace specialises it
        if min(before, after) < 0 or (mode == "reflect" and max(before, after) >= size):
            raise ShapeError(
                f"pad: {mode} padding ({before}, {after}) of dim {dim} of size {size} is "
                "not possible (reflect needs padding smaller than the dim)"
            )
        if mode == "circular" and max(before, after) > size:
            raise ShapeError(f"pad: circular padding ({before}, {after}) exceeds dim {dim}")
        index = (slice(None),) * dim + (Tensor(_pad_index(size, before, after, mode)),)
        x = shape_ops.getitem(x, index)
    return x


def _pad_constant(x: Tensor, dim: int, before: int, after: int, value: float) -> Tensor:
    if before < 0 or after < 0:  # negative padding crops
        stop = int(x.shape[dim]) + min(after, 0)
        x = shape_ops.getitem(x, (slice(None),) * dim + (slice(max(-before, 0), stop),))
        before, after = max(before, 0), max(after, 0)
    pieces = []
    for width in (before, after):
        fill = Tensor(np.array(value, x.dtype))
        pieces.append(shape_ops.broadcast_to(fill, (*x.shape[:dim], width, *x.shape[dim + 1 :])))
    pieces = [pieces[0], x, pieces[1]]
    return shape_ops.cat([p for p in pieces if p.shape[dim]], dim) if before or after else x


__all__ = ["batch_norm", "dropout", "embedding", "layer_norm", "linear", "pad"]
