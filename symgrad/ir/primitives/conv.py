"""N-d convolution (``conv``) and its two gradients, ``conv_input_grad`` and ``conv_weight_grad``.

``conv`` is PyTorch's cross-correlation of ``x`` ``(N, C, *spatial)`` with a weight
``(OC, C/groups, *kernel)``, with zero padding folded in (``lo``/``hi`` per spatial
dim). The three ops are bilinear, and each one's gradient is one of the three, so
gradients of gradients stay in this family.

With every stride 1, kernels multiply each zero-padded sample in place through the
micro-kernels of :mod:`symgrad.compiler.conv_tiles`
(:mod:`symgrad.ir.primitives.conv_tiled`; the input gradient is the full correlation of
the padded upstream gradient with the flipped weight).  Otherwise they are im2col plus
BLAS: per group, the windows of a block of samples are copied into one scratch matrix
(``C/groups * prod(kernel)`` rows, a column per output position) that one product
(``sg_gemm``, NumPy's BLAS) multiplies with the weight
(:mod:`symgrad.ir.primitives.conv_kernel`).
Stride, padding, dilation, groups, kernel and channel sizes are literals of the kernel;
the batch and spatial sizes may be symbols (a stride above 1 makes an output size a
floor division, :class:`~symgrad.ir.sizes.FloorDiv`, which kernels compute too).

Example:
    >>> import numpy as np
    >>> from symgrad.ir.graph import Var
    >>> f64 = np.dtype('float64')
    >>> p = ConvParams((2, 2), (1, 1), (1, 1), (1, 1))
    >>> conv(Var((8, 3, 9, 9), f64), Var((4, 3, 3, 3), f64), p).shape
    (8, 4, 5, 5)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from symgrad.errors import ShapeError, shape_str
from symgrad.ir.graph import Node, Var
from symgrad.ir.primitive import Primitive, Schedule, register
from symgrad.ir.primitives.conv_kernel import ConvKernel
from symgrad.ir.primitives.conv_tiled import TiledConv, tiled
from symgrad.ir.shapes import Shape
from symgrad.ir.sizes import floor_divide


@dataclass(frozen=True)
class ConvParams:
    """Per spatial dim: ``stride``, zero padding ``lo``/``hi``, ``dilation``; ``groups``."""

    stride: tuple[int, ...]
    lo: tuple[int, ...]
    hi: tuple[int, ...]
    dilation: tuple[int, ...]
    groups: int = 1


@dataclass(frozen=True)
class ConvInputGradParams:
    """The convolution, and the spatial sizes of its input (the gradient's shape)."""

    conv: ConvParams
    spatial: tuple[int, ...]


@dataclass(frozen=True)
class ConvWeightGradParams:
    """The convolution, and its kernel sizes (the gradient's spatial shape)."""

    conv: ConvParams
    kernel: tuple[int, ...]


def conv_out_size(size: Any, k: int, stride: int, lo: int, hi: int, dilation: int) -> Any:
    """Output length of a window ``k`` over ``size`` (symbolic sizes allowed).

    >>> conv_out_size(28, 3, 1, 0, 0, 1), conv_out_size(7, 3, 2, 1, 1, 1)
    (26, 4)
    """
    span = size + lo + hi - dilation * (k - 1) - 1
    return span + 1 if stride == 1 else floor_divide(span, stride) + 1


def _outs(p: ConvParams, spatial: Sequence, kernel: Sequence) -> tuple:
    d = len(p.stride)
    outs = tuple(
        conv_out_size(spatial[j], kernel[j], p.stride[j], p.lo[j], p.hi[j], p.dilation[j])
        for j in range(d)
    )
    if any(isinstance(o, int) and o < 1 for o in outs):
        raise ShapeError(
            f"conv{d}d: kernel {shape_str(tuple(kernel))} (dilation {p.dilation}) is larger "
            f"than the padded input {shape_str(tuple(spatial))}"
        )
    return outs


def _check(p: ConvParams, x_shape: Shape, w_shape: Shape, x: Any, w: Any) -> None:
    d = len(p.stride)
    op = f"conv{d}d"
    if len(x_shape) != d + 2 or len(w_shape) != d + 2:
        raise ShapeError(
            f"{op}: expected a {d + 2}-D input and weight, got {shape_str(x_shape)} and "
            f"{shape_str(w_shape)}"
        )
    if x_shape[1] != w_shape[1] * p.groups or w_shape[0] % p.groups != 0:
        raise ShapeError(
            f"{op}: input {shape_str(x_shape)} with groups={p.groups} does not match weight "
            f"{shape_str(w_shape)} (the weight takes {w_shape[1]} channels per group)"
        )
    if min(p.stride + p.dilation) < 1 or min(p.lo + p.hi) < 0 or p.groups < 1:
        raise ShapeError(f"{op}: bad parameters {p}")
    if x.dtype != w.dtype or x.dtype.kind != "f":
        raise ShapeError(f"{op} needs float tensors of one dtype, got {x.dtype} and {w.dtype}")


def _columns(p: ConvParams, x: np.ndarray, kernel: Sequence[int]) -> np.ndarray:
    """im2col with NumPy: ``(G, C/G * prod(kernel), N * prod(outs))``."""
    d, (n, c, *spatial) = len(kernel), x.shape
    if any(p.lo) or any(p.hi):
        x = np.pad(x, [(0, 0), (0, 0), *zip(p.lo, p.hi, strict=True)])
    outs = _outs(p, spatial, kernel)
    spans = [dil * (k - 1) + 1 for k, dil in zip(kernel, p.dilation, strict=True)]
    win = sliding_window_view(x, spans, axis=tuple(range(2, 2 + d)))
    pick = tuple(slice(0, (o - 1) * s + 1, s) for o, s in zip(outs, p.stride, strict=True))
    win = win[(slice(None), slice(None), *pick, *(slice(None, None, dil) for dil in p.dilation))]
    win = win.reshape(n, p.groups, c // p.groups, *outs, *kernel)
    order = (1, 2, *range(3 + d, 3 + 2 * d), 0, *range(3, 3 + d))
    return win.transpose(order).reshape(p.groups, -1, n * math.prod(outs))


def _grouped(g: np.ndarray, groups: int) -> np.ndarray:
    """``g`` ``(N, OC, *outs)`` as ``(G, OC/G, N * prod(outs))``."""
    n, oc = g.shape[:2]
    split = g.reshape(n, groups, oc // groups, -1).transpose(1, 2, 0, 3)
    return split.reshape(groups, oc // groups, -1)


class Conv(Primitive):
    """``conv(x, w)``: cross-correlation with zero padding, stride, dilation and groups."""

    name = "conv"
    schedule = Schedule.LIBRARY
    kernel_locals = ("cv",)

    def shape_rule(self, params: ConvParams, x: Any, w: Any) -> tuple[Shape, np.dtype]:
        _check(params, x.shape, w.shape, x, w)
        outs = _outs(params, x.shape[2:], w.shape[2:])
        return (x.shape[0], w.shape[0], *outs), x.dtype

    def evaluate(self, params: ConvParams, x: np.ndarray, w: np.ndarray) -> np.ndarray:
        g, n, (oc, _, *kernel) = params.groups, x.shape[0], w.shape
        out = np.matmul(w.reshape(g, oc // g, -1), _columns(params, x, kernel))
        out = out.reshape(oc, n, -1).transpose(1, 0, 2)
        return np.ascontiguousarray(out).reshape(n, oc, *_outs(params, x.shape[2:], kernel))

    def vjp(self, node: Node, g: Var, wanted: Sequence[bool]) -> list[Var | None]:
        x, w = node.inputs
        p = node.params
        return [
            conv_input_grad(g, w, p, x.shape[2:]) if wanted[0] else None,
            conv_weight_grad(x, g, p, w.shape[2:]) if wanted[1] else None,
        ]

    def emit(self, w: Any, node: Node) -> None:
        x, wt = node.inputs
        k = ConvKernel(w, node, wt.shape)
        xs, ws = w.operand(x), w.operand(wt)
        target = w.allocate(node.output)
        if tiled(k.p, k.weight[1]):
            TiledConv(k).forward(xs, ws, target)
            return
        k.sizes(xs)
        w.emit(1, f"{k.v('w')} = np.ascontiguousarray({ws}).reshape({k.weight})")
        w.emit(1, f"{k.v('y')} = {target}.reshape({k.grouped})")
        k.start(zero_cols=True)
        k.windows(xs, scatter=False)
        weight, cols = f"{k.v('w')}[cv_grp]", k.v("cols")
        at = k.direct_product(weight, cols, f"{k.v('y')}[cv_n0, cv_grp]")
        w.gemm(at, weight, cols, k.v("t"))
        k.from_columns(k.v("y"), at)


CONV = register(Conv())


class ConvInputGrad(Primitive):
    """``conv_input_grad(g, w)``: the gradient of ``conv`` w.r.t. its input (the transposed
    convolution, cropped to the input's spatial sizes)."""

    name = "conv_input_grad"
    schedule = Schedule.LIBRARY
    kernel_locals = ("cv",)

    def shape_rule(self, params: ConvInputGradParams, g: Any, w: Any) -> tuple[Shape, np.dtype]:
        p, spatial = params.conv, params.spatial
        shape = (g.shape[0], w.shape[1] * p.groups, *spatial)
        _check(p, shape, w.shape, g, w)
        _expect_grad(p, g.shape, (shape[0], w.shape[0], *_outs(p, spatial, w.shape[2:])))
        return shape, g.dtype

    def evaluate(self, params: ConvInputGradParams, g: np.ndarray, w: np.ndarray) -> np.ndarray:
        p, spatial = params.conv, params.spatial
        n, (oc, cg, *kernel), groups = g.shape[0], w.shape, p.groups
        outs = g.shape[2:]
        wg = w.reshape(groups, oc // groups, -1).swapaxes(-1, -2)
        cols = np.matmul(wg, _grouped(g, groups)).reshape(groups * cg, *kernel, n, *outs)
        cols = np.moveaxis(cols, 1 + len(kernel), 0)  # (N, C, *kernel, *outs)
        padded = [s + lo + hi for s, lo, hi in zip(spatial, p.lo, p.hi, strict=True)]
        out = np.zeros((n, groups * cg, *padded), g.dtype)
        for at in np.ndindex(*kernel):
            region = tuple(
                slice(a * dil, a * dil + (o - 1) * s + 1, s)
                for a, dil, o, s in zip(at, p.dilation, outs, p.stride, strict=True)
            )
            out[(slice(None), slice(None), *region)] += cols[(slice(None), slice(None), *at)]
        crop = tuple(slice(lo, lo + s) for lo, s in zip(p.lo, spatial, strict=True))
        return np.ascontiguousarray(out[(slice(None), slice(None), *crop)])

    def vjp(self, node: Node, h: Var, wanted: Sequence[bool]) -> list[Var | None]:
        g, w = node.inputs
        p = node.params.conv
        return [
            conv(h, w, p) if wanted[0] else None,
            conv_weight_grad(h, g, p, w.shape[2:]) if wanted[1] else None,
        ]

    def emit(self, w: Any, node: Node) -> None:
        g, wt = node.inputs
        k = ConvKernel(w, node, wt.shape)
        gs, ws = w.operand(g), w.operand(wt)
        if tiled(k.p, k.cg):
            TiledConv(k).input_grad(gs, ws, w.allocate(node.output))
            return
        target = w.allocate(node.output, fill="0")
        k.sizes(target)
        w.emit(1, f"{k.v('w')} = np.ascontiguousarray({ws}).reshape({k.weight})")
        w.emit(1, f"{k.v('g')} = np.ascontiguousarray({gs}).reshape({k.grouped})")
        k.start(zero_cols=False)
        weight, cols = f"{k.v('w')}[cv_grp].T", k.v("cols")
        at = k.direct_product(weight, f"{k.v('g')}[cv_n0, cv_grp]", cols)
        k.to_columns(k.v("g"), zero_rest=False, at=at)
        w.gemm(at, weight, k.v("t"), cols)
        k.windows(target, scatter=True)


CONV_INPUT_GRAD = register(ConvInputGrad())


class ConvWeightGrad(Primitive):
    """``conv_weight_grad(x, g)``: the gradient of ``conv`` w.r.t. its weight."""

    name = "conv_weight_grad"
    schedule = Schedule.LIBRARY
    kernel_locals = ("cv",)

    def shape_rule(self, params: ConvWeightGradParams, x: Any, g: Any) -> tuple[Shape, np.dtype]:
        p = params.conv
        if x.ndim < 2 or g.ndim < 2:
            raise ShapeError(f"conv_weight_grad: bad shapes {shape_str(x.shape)}, {g.shape}")
        shape = (g.shape[1], x.shape[1] // p.groups, *params.kernel)
        _check(p, x.shape, shape, x, g)
        _expect_grad(p, g.shape, (x.shape[0], shape[0], *_outs(p, x.shape[2:], params.kernel)))
        return shape, x.dtype

    def evaluate(self, params: ConvWeightGradParams, x: np.ndarray, g: np.ndarray) -> np.ndarray:
        p, kernel = params.conv, params.kernel
        cols = _columns(p, x, kernel)
        out = np.matmul(_grouped(g, p.groups), cols.swapaxes(-1, -2))
        return out.reshape(g.shape[1], x.shape[1] // p.groups, *kernel)

    def vjp(self, node: Node, h: Var, wanted: Sequence[bool]) -> list[Var | None]:
        x, g = node.inputs
        p = node.params.conv
        return [
            conv_input_grad(g, h, p, x.shape[2:]) if wanted[0] else None,
            conv(x, h, p) if wanted[1] else None,
        ]

    def emit(self, w: Any, node: Node) -> None:
        x, g = node.inputs
        k = ConvKernel(w, node, node.output.shape)
        xs, gs = w.operand(x), w.operand(g)
        target = w.allocate(node.output)
        if tiled(k.p, k.weight[1]):
            TiledConv(k).weight_grad(xs, gs, target)
            return
        k.sizes(xs)
        w.emit(1, f"{k.v('g')} = np.ascontiguousarray({gs}).reshape({k.grouped})")
        w.emit(1, f"{target}.fill(0)")
        w.emit(1, f"{k.v('dw')} = {target}.reshape({k.weight})")
        k.start(zero_cols=True)
        k.windows(xs, scatter=False)
        cols, dw = f"{k.v('cols')}.T", f"{k.v('dw')}[cv_grp]"
        at = k.direct_product(f"{k.v('g')}[cv_n0, cv_grp]", cols, dw, beta="1.0")
        k.to_columns(k.v("g"), zero_rest=True, at=at)
        w.gemm(at, k.v("t"), cols, dw, beta="1.0")


CONV_WEIGHT_GRAD = register(ConvWeightGrad())


def _expect_grad(p: ConvParams, got: Shape, want: Shape) -> None:
    if len(got) != len(want) or any(a != b for a, b in zip(got, want, strict=True)):
        raise ShapeError(
            f"conv{len(p.stride)}d gradient: expected shape {shape_str(want)}, got {shape_str(got)}"
        )


def conv(x: Var, w: Var, params: ConvParams) -> Var:
    """``conv(x, w)`` as one node (see the module's example)."""
    return CONV.bind([x, w], params)


def conv_input_grad(g: Var, w: Var, params: ConvParams, spatial: Sequence) -> Var:
    """The gradient of ``conv(x, w, params)`` w.r.t. ``x`` (of spatial sizes ``spatial``).

    >>> f64, p = np.dtype('float64'), ConvParams((2,), (0,), (0,), (1,))
    >>> conv_input_grad(Var((4, 2, 3), f64), Var((2, 3, 3), f64), p, (8,)).shape
    (4, 3, 8)
    """
    return CONV_INPUT_GRAD.bind([g, w], ConvInputGradParams(params, tuple(spatial)))


def conv_weight_grad(x: Var, g: Var, params: ConvParams, kernel: Sequence) -> Var:
    """The gradient of ``conv(x, w, params)`` w.r.t. ``w`` (of kernel sizes ``kernel``).

    >>> f64, p = np.dtype('float64'), ConvParams((2,), (0,), (0,), (1,))
    >>> conv_weight_grad(Var((4, 3, 8), f64), Var((4, 2, 3), f64), p, (3,)).shape
    (2, 3, 3)
    """
    return CONV_WEIGHT_GRAD.bind([x, g], ConvWeightGradParams(params, tuple(kernel)))
