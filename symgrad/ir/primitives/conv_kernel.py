"""Kernel lines of the three convolution ops (:mod:`symgrad.ir.primitives.conv`).

Stride, padding, dilation, groups, the kernel and channel sizes are literals of the
kernel; the batch and spatial sizes are read from the arrays at run time (one trace
and one kernel serve every image size whose output sizes need no floor division),
and the output sizes are computed from them there.  Padded positions are never read:
they stay zero in the scratch matrix, and a window is clipped to the input's bounds.

Example:
    >>> from symgrad.ir.primitives.conv import ConvParams
    >>> p = ConvParams((2,), (1,), (1,), (1,))
    >>> out_size_code("cv_s0_t", 3, p, 0)
    '(cv_s0_t - 1) // 2 + 1'
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from symgrad.errors import UnsupportedOpError, shape_str
from symgrad.ir.graph import Node
from symgrad.ir.shapes import Shape


def out_size_code(size: str, k: int, p: Any, j: int) -> str:
    """Code for the output length of spatial dim ``j`` of an input of length ``size``."""
    shift = p.lo[j] + p.hi[j] - p.dilation[j] * (k - 1) - 1
    span = f"{size} {'+' if shift > 0 else '-'} {abs(shift)}" if shift else size
    return f"{span} + 1" if p.stride[j] == 1 else f"({span}) // {p.stride[j]} + 1"


class ConvKernel:
    """Kernel lines shared by the three ops: sizes, scratch names and the window loops."""

    def __init__(self, w: Any, node: Node, w_shape: Shape):
        self.w, self.p = w, getattr(node.params, "conv", node.params)
        self.tag, self.dtype = w.names[node.output], node.output.dtype.name
        oc, cg, *kernel = w_shape
        if not all(isinstance(s, int | np.integer) for s in w_shape):
            raise UnsupportedOpError(
                f"conv kernels need concrete channel and kernel sizes, got {shape_str(w_shape)}"
            )
        self.kernel, self.cg, g = [int(k) for k in kernel], int(cg), self.p.groups
        self.patch = self.cg * math.prod(self.kernel)
        self.weight = (g, int(oc) // g, self.patch)
        d = len(self.kernel)
        self.n, self.length = self.v("n"), self.v("len")
        self.spatial = [self.v(f"s{j}") for j in range(d)]
        self.outs = [self.v(f"o{j}") for j in range(d)]
        self.grouped = f"({self.n}, {g}, {self.weight[1]}, {self.length})"

    def v(self, stem: str) -> str:
        return f"cv_{stem}_{self.tag}"

    def sizes(self, image: str) -> None:
        """The batch and spatial sizes of ``image`` (an ``(N, C, *spatial)`` array), the
        output sizes and their product."""
        w = self.w
        w.emit(1, f"{self.n} = {image}.shape[0]")
        for j, k in enumerate(self.kernel):
            w.emit(1, f"{self.spatial[j]} = {image}.shape[{2 + j}]")
            w.emit(1, f"{self.outs[j]} = {out_size_code(self.spatial[j], k, self.p, j)}")
        w.emit(1, f"{self.length} = {' * '.join(self.outs)}")

    def start(self, zero_cols: bool) -> None:
        """The scratch matrices (``cols``; ``t``: channels by columns), the group loop."""
        w, width = self.w, f"{self.n} * {self.length}"
        make = "zeros" if zero_cols else "empty"
        w.emit(1, f"{self.v('cols')} = np.{make}(({self.patch}, {width}), np.{self.dtype})")
        w.emit(1, f"{self.v('t')} = np.empty(({self.weight[1]}, {width}), np.{self.dtype})")
        w.emit(1, f"for cv_grp in range({self.p.groups}):")

    def transpose(self, target: str, source: str) -> None:
        """``target = source`` between ``(N, G, OC/G, L)`` and ``(OC/G, N * L)`` layouts."""
        self.w.emit(2, f"for cv_n in range({self.n}):")
        self.w.emit(3, f"cv_m = cv_n * {self.length}")
        self.w.emit(3, f"for cv_o in range({self.weight[1]}):")
        self.w.emit(4, f"for cv_l in range({self.length}):")
        self.w.emit(5, f"{target} = {source}")

    def windows(self, array: str, scatter: bool) -> None:
        """Copy the windows of ``array`` into the columns, or (``scatter``) add the
        columns back into ``array``; positions in the padding are skipped."""
        w, p, d = self.w, self.p, len(self.kernel)
        w.emit(2, f"for cv_n in range({self.n}):")
        w.emit(3, f"for cv_c in range({self.cg}):")
        w.emit(4, f"cv_ch = cv_grp * {self.cg} + cv_c")
        indent = 4
        for j, k in enumerate(self.kernel):
            w.emit(indent, f"for cv_k{j} in range({k}):")
            indent += 1
        row, size = ["cv_c"], 1
        for j in reversed(range(d)):  # row (c, k0, k1, ...) of the columns
            row.insert(1, f"cv_k{j}" if size == 1 else f"cv_k{j} * {size}")
            size *= self.kernel[j]
        row[0] = f"cv_c * {size}"
        w.emit(indent, f"cv_r = {' + '.join(row)}")
        last, o_last = d - 1, self.outs[-1]
        lo, s_last, dil = p.lo[last], p.stride[last], p.dilation[last]
        first, stop = "0", o_last
        if lo or p.hi[last]:  # the output positions whose window element is inside
            shift = f"cv_k{last} * {dil} - {lo}"
            first, stop = "cv_a", "cv_z"
            w.emit(indent, f"cv_a = max(0, -(({shift}) // {s_last}))")
            w.emit(
                indent,
                f"cv_z = min({o_last}, ({self.spatial[last]} - 1 - ({shift})) // {s_last} + 1)",
            )
        offset = [f"cv_n * {self.length}"]
        for j in range(last):
            w.emit(indent, f"for cv_o{j} in range({self.outs[j]}):")
            indent += 1
            w.emit(indent, f"cv_i{j} = {_position(j, p)}")
            if p.lo[j] or p.hi[j]:  # a window row in the padding: nothing to read
                w.emit(indent, f"if cv_i{j} < 0 or cv_i{j} >= {self.spatial[j]}:")
                w.emit(indent + 1, "continue")
            offset.append(f"cv_o{j} * {' * '.join(self.outs[j + 1 :])}")
        w.emit(indent, f"cv_b = {' + '.join(offset)}")
        w.emit(indent, f"for cv_o{last} in range({first}, {stop}):")
        indent += 1
        at = ", ".join(["cv_n", "cv_ch", *(f"cv_i{j}" for j in range(last)), _position(last, p)])
        if scatter:
            w.emit(indent, f"{array}[{at}] += {self.v('cols')}[cv_r, cv_b + cv_o{last}]")
        else:
            w.emit(indent, f"{self.v('cols')}[cv_r, cv_b + cv_o{last}] = {array}[{at}]")


def _position(j: int, p: Any) -> str:
    """The input index read by output position ``cv_o{j}`` at kernel offset ``cv_k{j}``."""
    step = f"cv_o{j} * {p.stride[j]}" if p.stride[j] != 1 else f"cv_o{j}"
    dil = f"cv_k{j} * {p.dilation[j]}" if p.dilation[j] != 1 else f"cv_k{j}"
    return f"{step} + {dil}" + (f" - {p.lo[j]}" if p.lo[j] else "")
