"""Convolution with PyTorch's names (part of ``sg.functional``), and the sliding-window
helpers that :mod:`symgrad.frontend.pooling` shares.

A convolution is one ``conv`` node (:mod:`symgrad.ir.primitives.conv`: zero padding,
stride, dilation and groups are its parameters; kernels are im2col plus BLAS), and
its bias one broadcast add.  Average and adaptive pooling compose the window helpers
here: constant padding (``pad_dims``) and one ``getitem`` gather of the sliding
windows (``windows``); max pooling is a primitive of its own
(:mod:`symgrad.ir.primitives.pooling`).

Example:
    >>> import symgrad as sg
    >>> x = sg.arange(16.0).reshape(1, 1, 4, 4)
    >>> conv2d(x, sg.ones(1, 1, 2, 2), stride=2)
    tensor([[[[10., 18.],
              [42., 50.]]]])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from symgrad.dtypes import is_floating, result_dtype
from symgrad.errors import ShapeError, shape_str
from symgrad.frontend import shape_ops
from symgrad.frontend.apply import apply, as_tensor, cast
from symgrad.frontend.nn_functional import pad
from symgrad.frontend.tensor import Tensor
from symgrad.ir.primitives.conv import CONV, ConvParams

IntOrTuple = int | Sequence[int]


def ntuple(value: IntOrTuple, n: int, name: str, op: str) -> tuple[int, ...]:
    """``value`` as ``n`` ints (an int, or a 1-tuple, is repeated), as PyTorch's ``_pair``;
    anything else raises ``ValueError`` naming ``op``'s argument ``name``.

    >>> ntuple(3, 2, "stride", "conv2d"), ntuple((1, 2), 2, "stride", "conv2d")
    ((3, 3), (1, 2))
    """
    items = (value,) * n if isinstance(value, int | np.integer) else tuple(value)
    if len(items) == 1:
        items = items * n
    if len(items) != n or not all(isinstance(v, int | np.integer) for v in items):
        raise ValueError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}")
    return tuple(int(v) for v in items)


def concrete(shape: Sequence) -> list[int]:
    """Sizes as ints: the window index arrays are built from them, so a compiled trace
    specialises these dims (with a guard); only the batch dim stays symbolic.

    >>> concrete((2, 3))
    [2, 3]
    """
    return [int(n) for n in shape]


def batched(op: str, x: Tensor, d: int) -> tuple[Tensor, bool]:
    """``x`` with a batch dim (PyTorch accepts an unbatched ``(C, *spatial)`` input too),
    and whether one was added; other ranks raise ``ShapeError``.

    >>> import symgrad as sg
    >>> x, added = batched("conv1d", sg.zeros(3, 5), 1); x.shape, added
    ((1, 3, 5), True)
    """
    if x.ndim == d + 2:
        return x, False
    if x.ndim == d + 1:
        return shape_ops.unsqueeze(x, 0), True
    raise ShapeError(
        f"{op}: expected a {d + 1}-D (unbatched) or {d + 2}-D (batched) input, "
        f"got {shape_str(x.shape)}"
    )


def out_size(op: str, size: int, k: int, s: int, lo: int, hi: int, dil: int, ceil: bool) -> int:
    """The output length of a window ``k`` (stride ``s``, padding ``lo``/``hi``, dilation
    ``dil``) over ``size``, as PyTorch computes it; ``ceil`` is pooling's ``ceil_mode``
    (the last window must still start inside the input or its left padding).

    >>> [out_size("max_pool1d", 5, 2, 2, 0, 0, 1, ceil) for ceil in (False, True)]
    [2, 3]
    """
    span = size + lo + hi - dil * (k - 1) - 1
    if span < 0:
        raise ShapeError(
            f"{op}: kernel size {k} (dilation {dil}) is larger than the padded input size "
            f"{size + lo + hi}"
        )
    if not ceil:
        return span // s + 1
    out = -(-span // s) + 1
    return out - 1 if (out - 1) * s >= size + lo else out  # last window must start inside


def windows(x: Tensor, first: int, kernel, stride, dilation, outs) -> Tensor:
    """Sliding windows of dims ``first..first+d-1``: those dims become ``(*outs, *kernel)``
    (one gather; each index array varies along one output dim and one kernel dim).

    >>> import symgrad as sg
    >>> windows(sg.arange(5.0), 0, [2], [2], [1], [2])
    tensor([[0., 1.],
            [2., 3.]])
    """
    d = len(kernel)
    arrays = []
    for j in range(d):
        index = (
            np.arange(outs[j])[:, None] * stride[j] + np.arange(kernel[j])[None, :] * dilation[j]
        )
        shape = [1] * (2 * d)
        shape[j], shape[d + j] = outs[j], kernel[j]
        arrays.append(Tensor(np.ascontiguousarray(index.reshape(shape), np.int64)))
    return shape_ops.getitem(x, (slice(None),) * first + tuple(arrays))


def _padding(op: str, padding, kernel, dilation, stride) -> tuple[list[int], list[int]]:
    d = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return [0] * d, [0] * d
        if padding != "same":
            raise ValueError(f"{op}: padding must be 'valid', 'same' or ints, got {padding!r}")
        if any(s != 1 for s in stride):
            raise ValueError(f"{op}: padding='same' is not supported for strided convolutions")
        totals = [dil * (k - 1) for k, dil in zip(kernel, dilation, strict=True)]
        return [t // 2 for t in totals], [t - t // 2 for t in totals]
    pads = ntuple(padding, d, "padding", op)
    if any(p < 0 for p in pads):
        raise ValueError(f"{op}: padding must be non-negative, got {padding!r}")
    return list(pads), list(pads)


def pad_dims(x: Tensor, first: int, lo: Sequence[int], hi: Sequence[int], value: float) -> Tensor:
    """Constant padding of dims ``first..first+len(lo)-1`` with ``value``: ``lo[j]`` before
    and ``hi[j]`` after dim ``first + j``.

    >>> import symgrad as sg
    >>> pad_dims(sg.ones(1, 2), 1, [1], [0], 0.0)
    tensor([[0., 1., 1.]])
    """
    sizes: list[int] = []
    for j in reversed(range(first, x.ndim)):
        k = j - first
        sizes += [lo[k], hi[k]] if k < len(lo) else [0, 0]
    return pad(x, sizes, value=value) if any(sizes) else x


def conv(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: IntOrTuple = 1,
    padding: IntOrTuple | str = 0,
    dilation: IntOrTuple = 1,
    groups: int = 1,
) -> Tensor:
    """N-d convolution (cross-correlation, as PyTorch's) of ``(N, C, *spatial)`` (or
    unbatched ``(C, *spatial)``) with ``(OC, C/groups, *k)``; ``d`` comes from the weight.

    ``stride``, ``padding`` (ints, ``'valid'`` or ``'same'``) and ``dilation`` are ints or
    ``d``-tuples.  Inside ``@sg.compile`` the batch size and the spatial sizes of stride-1
    dims are symbolic (one trace and kernel for every image size); a new channel count, or
    a new size in a strided dim, traces again.  No ``padding_mode`` (pad with ``F.pad``
    first).

    >>> import symgrad as sg
    >>> conv(sg.ones(1, 1, 3), sg.ones(2, 1, 2), sg.tensor([0., 1.]))
    tensor([[[2., 2.],
             [3., 3.]]])
    """
    x, weight = as_tensor(input), as_tensor(weight)
    d = weight.ndim - 2
    op = f"conv{d}d"
    x, unbatched = batched(op, x, d)
    channels = concrete(x.shape[1:2])[0]  # must match the weight; spatial sizes stay
    spatial = list(x.shape[2:])  # symbolic (a stride above 1: a floor division)
    out_channels, per_group, *kernel = concrete(weight.shape)
    if groups < 1 or channels % groups or out_channels % groups or per_group * groups != channels:
        raise ShapeError(
            f"{op}: input {shape_str(x.shape)} with groups={groups} does not match weight "
            f"{shape_str(weight.shape)} (the weight takes {per_group} channels per group; "
            "channels and out_channels must be divisible by groups)"
        )
    if bias is not None and as_tensor(bias).shape != (out_channels,):
        raise ShapeError(
            f"{op}: bias must have shape ({out_channels},), got {as_tensor(bias).shape}"
        )
    stride = ntuple(stride, d, "stride", op)
    dilation = ntuple(dilation, d, "dilation", op)
    if min(stride) < 1 or min(dilation) < 1:
        raise ValueError(f"{op}: stride and dilation must be positive, got {stride}, {dilation}")
    lo, hi = _padding(op, padding, kernel, dilation, stride)
    for j in range(d):  # a ShapeError naming the op when a window does not fit
        out_size(op, spatial[j], kernel[j], stride[j], lo[j], hi[j], dilation[j], False)
    dtype = result_dtype([x.dtype, weight.dtype])
    if not is_floating(dtype):
        raise TypeError(f"{op}: expected float tensors, got {x.dtype} and {weight.dtype}")
    params = ConvParams(stride, tuple(lo), tuple(hi), dilation, groups)
    out = apply(CONV, [cast(x, dtype), cast(weight, dtype)], params)
    if bias is not None:
        bias = as_tensor(bias)  # viewed with its own size (a compiled argument's may be symbolic)
        out = out + shape_ops.reshape(bias, (*bias.shape, *(1,) * d))
    return shape_ops.squeeze(out, 0) if unbatched else out


def conv1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: IntOrTuple = 1,
    padding: IntOrTuple | str = 0,
    dilation: IntOrTuple = 1,
    groups: int = 1,
) -> Tensor:
    """1-D convolution of ``(N, C, L)`` (or ``(C, L)``) with ``weight`` ``(OC, C/groups, k)``,
    as ``torch.nn.functional.conv1d``; the arguments and limits are :func:`conv`'s.

    >>> import symgrad as sg
    >>> conv1d(sg.tensor([[[1.0, 2.0, 3.0]]]), sg.ones(1, 1, 2), padding=1)
    tensor([[[1., 3., 5., 3.]]])
    """
    _check_weight("conv1d", weight, 3)
    return conv(input, weight, bias, stride, padding, dilation, groups)


def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: IntOrTuple = 1,
    padding: IntOrTuple | str = 0,
    dilation: IntOrTuple = 1,
    groups: int = 1,
) -> Tensor:
    """2-D convolution of ``(N, C, H, W)`` with ``weight`` ``(OC, C/groups, kh, kw)``;
    ``padding`` may be ints, ``'valid'`` or ``'same'`` (stride 1 only), as
    ``torch.nn.functional.conv2d``.  Inside ``@sg.compile`` the batch size and, where the
    stride is 1, the image size are symbolic: a new one does not trace again.

    >>> import symgrad as sg
    >>> conv2d(sg.zeros(2, 4, 9, 9), sg.zeros(6, 2, 3, 3), groups=2, stride=2).shape
    (2, 6, 4, 4)
    """
    _check_weight("conv2d", weight, 4)
    return conv(input, weight, bias, stride, padding, dilation, groups)


def _check_weight(op: str, weight, ndim: int) -> None:
    if as_tensor(weight).ndim != ndim:
        raise ShapeError(f"{op}: weight must be {ndim}-D, got {shape_str(as_tensor(weight).shape)}")


__all__ = ["conv1d", "conv2d"]
