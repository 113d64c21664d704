"""Max pooling: ``max_pool``, its gradient ``max_pool_grad``, PyTorch's indices
``max_pool_indices``, and ``max_pool_pick`` (the gradient of ``max_pool_grad``).

Each window of ``x`` ``(N, C, *spatial)`` is scanned as PyTorch's CPU kernel scans it:
in row-major order over its positions inside the input (the padding counts as
``-inf`` and is never read), starting from ``-inf`` at the first position inside;
a value becomes the window's best when it is larger or NaN.  So a tie goes to the
first maximum and the last NaN wins.  The four ops share that scan: the value is
the best value, the index its flat position in the input plane, the gradient adds
``g`` at the best position (overlapping windows accumulate), and the pick reads ``h``
there.  A window with no position inside (possible with dilation) is ``-inf``, has
PyTorch's index (past the window) and passes no gradient on (PyTorch adds it there).

Kernels are one loop nest each, without index arrays; the input's spatial sizes are
read from its array, so batch, channel and spatial sizes may be symbols.  Window,
stride, padding, dilation and ``ceil_mode`` are literals.

Example:
    >>> from symgrad.ir.graph import Var
    >>> p = PoolParams((3, 3), (2, 2), (1, 1), (1, 1), ceil_mode=True)
    >>> max_pool(Var((8, 3, 7, 7), np.dtype('float64')), p).shape
    (8, 3, 4, 4)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy
from numpy.lib.stride_tricks import sliding_window_view

from symgrad.errors import ShapeError, shape_str
from symgrad.ir.graph import Node, Var
from symgrad.ir.primitive import Primitive, Schedule, register
from symgrad.ir.shapes import Shape
from symgrad.ir.sizes import floor_divide


@dataclass(frozen=True)
class PoolParams:
    """Per spatial dim: the window ``kernel``, ``stride``, ``padding`` (on both sides)
    and ``dilation``; ``ceil_mode`` rounds the output size up, as PyTorch's."""

    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    dilation: tuple[int, ...]
    ceil_mode: bool = False


def pool_out_size(size: Any, k: int, stride: int, pad: int, dilation: int, ceil: bool) -> Any:
    """PyTorch's output length of a pooling window over ``size`` (which may be symbolic);
    with ``ceil`` the last window must start inside the input or its left padding.

    >>> pool_out_size(7, 3, 2, 1, 1, False), pool_out_size(6, 3, 2, 0, 1, True)
    (4, 3)
    >>> pool_out_size(5, 2, 2, 1, 1, True)  # a 4th window would start in the padding
    3
    """
    span = size + 2 * pad - dilation * (k - 1) - 1
    if stride == 1:  # ceil_mode changes nothing (the padding is at most half the window)
        return span + 1
    if not ceil:
        return floor_divide(span, stride) + 1
    out = floor_divide(span + stride - 1, stride) + 1
    late = (out - 1) * stride >= size + pad  # the last window starts in the right padding
    if isinstance(late, sympy.Rel):
        return sympy.Min(out, floor_divide(size + pad - 1, stride) + 1)  # undecided: both bounds
    return out - 1 if late else out


def _outs(p: PoolParams, x: Any) -> tuple:
    """Checks ``x`` and the parameters; the output's spatial sizes."""
    d = len(p.kernel)
    op = f"max_pool{d}d"
    if x.ndim != d + 2:
        raise ShapeError(f"{op}: expected a {d + 2}-D input, got {shape_str(x.shape)}")
    if x.dtype.kind != "f":
        raise ShapeError(f"{op} needs a float tensor, got dtype {x.dtype}")
    sizes = (p.stride, p.padding, p.dilation)
    if any(len(t) != d for t in sizes) or min(p.kernel + p.stride + p.dilation) < 1:
        raise ShapeError(f"{op}: bad parameters {p}")
    if any(not 0 <= pad <= k // 2 for pad, k in zip(p.padding, p.kernel, strict=True)):
        raise ShapeError(
            f"{op}: padding {p.padding} should be at most half of kernel size {p.kernel}"
        )
    spatial = x.shape[2:]
    outs = tuple(
        pool_out_size(n, k, s, pad, dil, p.ceil_mode)
        for n, k, s, pad, dil in zip(spatial, *(p.kernel, *sizes), strict=True)
    )
    if any(not isinstance(o, sympy.Basic) and o < 1 for o in outs):  # (a traced size: guarded)
        raise ShapeError(
            f"{op}: kernel_size {p.kernel} (dilation {p.dilation}, padding {p.padding}) is "
            f"larger than the padded input {shape_str(tuple(spatial))}"
        )
    return outs


def _expect(op: str, what: str, got: Shape, want: Shape) -> None:
    if len(got) != len(want) or any(a != b for a, b in zip(got, want, strict=True)):
        raise ShapeError(f"{op}: expected {what} of shape {shape_str(want)}, got {shape_str(got)}")


def _scan(p: PoolParams, x: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """The best position of each window (one int array ``(N, C, *outs)`` per spatial dim)
    and its value, with NumPy (see the module docstring for the rule)."""
    d, spatial = len(p.kernel), x.shape[2:]
    outs = _outs(p, x)
    spans = [dil * (k - 1) + 1 for k, dil in zip(p.kernel, p.dilation, strict=True)]
    his = [
        max(0, (o - 1) * s + span - n - pad)
        for o, s, span, n, pad in zip(outs, p.stride, spans, spatial, p.padding, strict=True)
    ]
    padded = np.pad(x, [(0, 0), (0, 0), *zip(p.padding, his, strict=True)], constant_values=-np.inf)
    win = sliding_window_view(padded, spans, axis=tuple(range(2, 2 + d)))
    pick = tuple(slice(0, (o - 1) * s + 1, s) for o, s in zip(outs, p.stride, strict=True))
    win = win[(slice(None), slice(None), *pick, *(slice(None, None, dil) for dil in p.dilation))]
    flat = win.reshape(*win.shape[: 2 + d], math.prod(p.kernel))  # (N, C, *outs, window)
    nan = np.isnan(flat)
    last_nan = flat.shape[-1] - 1 - np.argmax(nan[..., ::-1], axis=-1)
    first_max = np.argmax(np.where(nan, -np.inf, flat), axis=-1)
    top = np.take_along_axis(flat, first_max[..., None], -1)[..., 0]
    starts = [  # per dim, each window's offset of its first position inside the input
        -(-np.maximum(0, pad - np.arange(o) * s) // dil)
        for o, s, pad, dil in zip(outs, p.stride, p.padding, p.dilation, strict=True)
    ]
    first_inside = np.ravel_multi_index(np.meshgrid(*starts, indexing="ij"), p.kernel)
    best = np.where(nan.any(-1), last_nan, np.where(top > -np.inf, first_max, first_inside))
    value = np.take_along_axis(flat, best[..., None], -1)[..., 0]
    offsets = np.unravel_index(best, p.kernel)
    positions = []
    for j in range(d):
        o = np.arange(outs[j]).reshape([-1 if i == j else 1 for i in range(d)])
        positions.append(o * p.stride[j] - p.padding[j] + offsets[j] * p.dilation[j])
    return positions, value


def _best(p: PoolParams, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, tuple]:
    """Each window's value; which windows have a position inside the input (all but the
    empty ones); and, for those, the index ``(n, c, *position)`` of the best in ``x``."""
    positions, value = _scan(p, x)
    inside = np.ones(value.shape, bool)
    for at, n in zip(positions, x.shape[2:], strict=True):
        inside &= at < n  # (never negative: a scan starts at the first position >= 0)
    lead = np.indices(x.shape[:2]).reshape(2, *x.shape[:2], *(1,) * len(positions))
    index = tuple(np.broadcast_to(a, value.shape)[inside] for a in (*lead, *positions))
    return value, inside, index


def _always_inside(p: PoolParams, j: int) -> bool:
    """Whether every window lies inside the input along dim ``j`` (no padding, the output
    size rounded down): its scan then has a fixed length, which LLVM unrolls into
    branch-free selects (3x faster for 2x2 windows: clipped bounds left it a loop of
    unpredictable branches)."""
    return not p.padding[j] and not p.ceil_mode


def _window_bounds(w: Any, p: PoolParams, j: int, tag: str, indent: int) -> None:
    """``mp_a<j>``, ``mp_z<j>``: the first position inside the input of window ``i<j+2>``
    along spatial dim ``j``, and the end of its positions there (clipped to the input)."""
    a, dil, pad = f"mp_a{j}_{tag}", p.dilation[j], p.padding[j]
    start = f"i{2 + j}" + (f" * {p.stride[j]}" if p.stride[j] != 1 else "")
    w.emit(indent, f"{a} = {start}" + (f" - {pad}" if pad else ""))
    span = dil * (p.kernel[j] - 1) + 1
    if _always_inside(p, j):
        w.emit(indent, f"mp_z{j}_{tag} = {a} + {span}")
        return
    w.emit(indent, f"mp_z{j}_{tag} = min({a} + {span}, mp_n{j}_{tag})")
    if pad and dil == 1:
        w.emit(indent, f"{a} = max({a}, 0)")
    elif pad:  # step over the left padding, a dilation at a time
        w.emit(indent, f"if {a} < 0:")
        w.emit(indent + 1, f"{a} += ({dil - 1} - {a}) // {dil} * {dil}")


class _Pool(Primitive):
    """What the four ops share: the scan, in NumPy and in a kernel."""

    schedule = Schedule.INDEX_LOOP
    kernel_locals = ("mp",)

    def scan_kernel(self, w: Any, node: Node, x: Var, loops: Shape) -> tuple[int, str, str]:
        """Loops over ``loops`` (``(N, C, *outs)``) and the scan of each window of ``x``;
        returns the indent after the scan, the loop index and the best position (the
        value is ``mp_best_<tag>``, the position ``mp_b<j>_<tag>``)."""
        p, tag, d = node.params, w.names[node.output], len(node.params.kernel)
        xs = w.operand(x)
        w.emit(1, f"# {self.describe(node, [w.names[v] for v in node.inputs])}")
        for j in range(d):
            w.emit(1, f"mp_n{j}_{tag} = {xs}.shape[{2 + j}]")
        indent = w.loop_nest(loops[:2])
        for j in range(d):
            w.emit(indent, f"for i{2 + j} in range({loops[2 + j]}):")
            _window_bounds(w, p, j, tag, indent + 1)
            indent += 1
        w.emit(indent, f"mp_best_{tag} = -math.inf")
        for j in range(d):
            w.emit(indent, f"mp_b{j}_{tag} = mp_a{j}_{tag}")
        inner = indent
        for j in range(d):
            bounds = f"mp_a{j}_{tag}, mp_z{j}_{tag}" + (
                f", {p.dilation[j]}" if p.dilation[j] != 1 else ""
            )
            w.emit(inner, f"for mp_j{j} in range({bounds}):")
            inner += 1
        read = w.index(["i0", "i1", *(f"mp_j{j}" for j in range(d))])
        w.emit(inner, f"mp_v_{tag} = {xs}[{read}]")
        w.emit(inner, f"if mp_v_{tag} > mp_best_{tag} or mp_v_{tag} != mp_v_{tag}:")
        w.emit(inner + 1, f"mp_best_{tag} = mp_v_{tag}")
        for j in range(d):
            w.emit(inner + 1, f"mp_b{j}_{tag} = mp_j{j}")
        here = w.index([f"i{k}" for k in range(d + 2)])
        best = w.index(["i0", "i1", *(f"mp_b{j}_{tag}" for j in range(d))])
        return indent, here, best

    def inside(self, w: Any, node: Node) -> str:
        """The test that the best position is inside the input (its window is not empty)."""
        tag = w.names[node.output]
        d = len(node.params.kernel)
        return " and ".join(f"mp_b{j}_{tag} < mp_n{j}_{tag}" for j in range(d))


class MaxPool(_Pool):
    """``max_pool(x)``: the largest value of each window (``-inf`` padding)."""

    name = "max_pool"

    def shape_rule(self, params: PoolParams, x: Any) -> tuple[Shape, np.dtype]:
        return (*x.shape[:2], *_outs(params, x)), x.dtype

    def evaluate(self, params: PoolParams, x: np.ndarray) -> np.ndarray:
        return _scan(params, x)[1]

    def vjp(self, node: Node, g: Var, wanted: Sequence[bool]) -> list[Var | None]:
        return [max_pool_grad(node.inputs[0], g, node.params) if wanted[0] else None]

    def emit(self, w: Any, node: Node) -> None:
        target = w.allocate(node.output)
        indent, here, _ = self.scan_kernel(w, node, node.inputs[0], node.output.shape)
        w.emit(indent, f"{target}[{here}] = mp_best_{w.names[node.output]}")


MAX_POOL = register(MaxPool())


class MaxPoolIndices(_Pool):
    """``max_pool_indices(x)``: PyTorch's ``return_indices``, the flat position of each
    window's best in its input plane (int64)."""

    name = "max_pool_indices"
    differentiable = False

    def shape_rule(self, params: PoolParams, x: Any) -> tuple[Shape, np.dtype]:
        return (*x.shape[:2], *_outs(params, x)), np.dtype(np.int64)

    def evaluate(self, params: PoolParams, x: np.ndarray) -> np.ndarray:
        positions, _ = _scan(params, x)
        flat = np.zeros(positions[0].shape, np.int64)
        for at, n in zip(positions, x.shape[2:], strict=True):
            flat = flat * n + at  # (an empty window's index may be past the plane, as PyTorch's)
        return flat

    def emit(self, w: Any, node: Node) -> None:
        target, tag = w.allocate(node.output), w.names[node.output]
        indent, here, _ = self.scan_kernel(w, node, node.inputs[0], node.output.shape)
        flat = f"mp_b0_{tag}"
        for j in range(1, len(node.params.kernel)):
            flat = f"{flat if j == 1 else f'({flat})'} * mp_n{j}_{tag} + mp_b{j}_{tag}"
        w.emit(indent, f"{target}[{here}] = {flat}")


MAX_POOL_INDICES = register(MaxPoolIndices())


class _Transposes(_Pool):
    """``max_pool_grad`` and ``max_pool_pick``: linear in their second input and each
    other's transpose there, so each one's gradient is the other (none flows to ``x``)."""

    def vjp(self, node: Node, g: Var, wanted: Sequence[bool]) -> list[Var | None]:
        other = MAX_POOL_PICK if self is MAX_POOL_GRAD else MAX_POOL_GRAD
        return [None, other.bind([node.inputs[0], g], node.params) if wanted[1] else None]


class MaxPoolGrad(_Transposes):
    """``max_pool_grad(x, g)``: zeros of ``x``'s shape with each window's ``g`` added at
    its best position."""

    name = "max_pool_grad"

    def shape_rule(self, params: PoolParams, x: Any, g: Any) -> tuple[Shape, np.dtype]:
        outs = _outs(params, x)
        _expect(f"max_pool{len(outs)}d gradient", "g", g.shape, (*x.shape[:2], *outs))
        return x.shape, x.dtype

    def evaluate(self, params: PoolParams, x: np.ndarray, g: np.ndarray) -> np.ndarray:
        _, inside, index = _best(params, x)
        out = np.zeros(x.shape, g.dtype)
        np.add.at(out, index, g[inside])
        return out

    def emit(self, w: Any, node: Node) -> None:
        x, g = node.inputs
        target, gs = w.allocate(node.output, fill="0"), w.operand(g)
        indent, here, best = self.scan_kernel(w, node, x, g.shape)
        w.emit(indent, f"if {self.inside(w, node)}:")
        w.emit(indent + 1, f"{target}[{best}] += {gs}[{here}]")


MAX_POOL_GRAD = register(MaxPoolGrad())


class MaxPoolPick(_Transposes):
    """``max_pool_pick(x, h)``: ``h`` (of ``x``'s shape) at each window's best position of
    ``x``, 0 for a window with nothing inside."""

    name = "max_pool_pick"

    def shape_rule(self, params: PoolParams, x: Any, h: Any) -> tuple[Shape, np.dtype]:
        outs = _outs(params, x)
        _expect(f"max_pool{len(outs)}d pick", "h", h.shape, x.shape)
        return (*x.shape[:2], *outs), h.dtype

    def evaluate(self, params: PoolParams, x: np.ndarray, h: np.ndarray) -> np.ndarray:
        value, inside, index = _best(params, x)
        out = np.zeros(value.shape, h.dtype)
        out[inside] = h[index]
        return out

    def emit(self, w: Any, node: Node) -> None:
        x, h = node.inputs
        target, hs = w.allocate(node.output), w.operand(h)
        indent, here, best = self.scan_kernel(w, node, x, node.output.shape)
        w.emit(indent, f"{target}[{here}] = {hs}[{best}] if {self.inside(w, node)} else 0.0")


MAX_POOL_PICK = register(MaxPoolPick())


def max_pool(x: Var, params: PoolParams) -> Var:
    """``max_pool(x)`` as one node (see the module's example)."""
    return MAX_POOL.bind([x], params)


def max_pool_indices(x: Var, params: PoolParams) -> Var:
    """PyTorch's ``return_indices`` of ``max_pool(x, params)``.

    >>> p = PoolParams((2,), (2,), (0,), (1,))
    >>> MAX_POOL_INDICES.evaluate(p, np.array([[[1.0, 3.0, 2.0, 2.0]]]))
    array([[[1, 2]]])
    """
    return MAX_POOL_INDICES.bind([x], params)


def max_pool_grad(x: Var, g: Var, params: PoolParams) -> Var:
    """The gradient of ``max_pool(x, params)`` for upstream ``g``: all of a window's ``g``
    goes to its first maximum, as in PyTorch.

    >>> p = PoolParams((2,), (1,), (0,), (1,))
    >>> MAX_POOL_GRAD.evaluate(p, np.array([[[1.0, 1.0, 0.0]]]), np.array([[[1.0, 1.0]]]))
    array([[[1., 1., 0.]]])
    """
    return MAX_POOL_GRAD.bind([x, g], params)


def max_pool_pick(x: Var, h: Var, params: PoolParams) -> Var:
    """``h`` at the best position of each window of ``x`` (the gradient of
    :func:`max_pool_grad` with respect to its ``g``)."""
    return MAX_POOL_PICK.bind([x, h], params)
