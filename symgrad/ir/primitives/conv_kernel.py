"""Kernel lines of the three convolution ops (:mod:`symgrad.ir.primitives.conv`) with a
stride above 1 (im2col plus BLAS; stride 1: :mod:`symgrad.ir.primitives.conv_tiled`).

Stride, padding, dilation, groups, the kernel and channel sizes are literals of the
kernel; the batch and spatial sizes are read from the arrays at run time (one trace
and one kernel serve every image size), and the output sizes are computed from them
there.  Padded positions are never read:
they stay zero in the scratch matrix, and a window is clipped to the input's bounds.

The batch runs in blocks of samples whose columns (``patch x block * positions``) stay
in cache, one matrix product (``sg_gemm``) per block and group.  A sample with at least
:data:`DIRECT_COLUMNS` output positions is a block of its own, and the products read
and write its rows in place; smaller ones are copied to and from a scratch ``t``.
Every copy loop runs over a 1-D view indexed from 0 (an offset added to the index
makes Numba check it for negative values and the loop stops vectorizing: five times
slower on 28x28 images).

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

#: Columns of one block of samples (``patch x BLOCK_COLUMNS`` scratch; one product each).
BLOCK_COLUMNS = 2048
#: Output positions per sample from which each sample is its own block, and the
#: products read and write the samples' rows in place (no copies to and from the
#: columns): about as fast per column as a wide block there.
DIRECT_COLUMNS = 512
#: The indent of the code run per block and group.
BODY = 3


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
        output sizes, their product and the samples in one block."""
        w = self.w
        w.emit(1, f"{self.n} = {image}.shape[0]")
        for j, k in enumerate(self.kernel):
            w.emit(1, f"{self.spatial[j]} = {image}.shape[{2 + j}]")
            w.emit(1, f"{self.outs[j]} = {out_size_code(self.spatial[j], k, self.p, j)}")
        w.emit(1, f"{self.length} = {' * '.join(self.outs)}")
        # as many blocks as BLOCK_COLUMNS columns need, the samples spread evenly over
        # them: a last block as wide as the others would multiply its unused columns too
        blocks = f"max(1, -(-{self.n} * {self.length} // {BLOCK_COLUMNS}))"
        w.emit(1, f"{self.v('direct')} = {self.length} >= {DIRECT_COLUMNS}")
        w.emit(1, f"{self.v('bs')} = 1 if {self.v('direct')} else max(1, -(-{self.n} // {blocks}))")

    def start(self, zero_cols: bool) -> None:
        """The scratch matrices (``cols``; ``t``: channels by columns) and the loops over
        blocks of samples (``cv_n0``, ``cv_nb`` of them) and groups; the body goes at
        indent :data:`BODY`."""
        w, width = self.w, f"{self.v('bs')} * {self.length}"
        make = "zeros" if zero_cols else "empty"
        w.emit(1, f"{self.v('cols')} = np.{make}(({self.patch}, {width}), np.{self.dtype})")
        w.emit(1, f"{self.v('t')} = np.empty(({self.weight[1]}, {width}), np.{self.dtype})")
        w.emit(1, f"for cv_n0 in range(0, {self.n}, {self.v('bs')}):")
        w.emit(2, f"cv_nb = min({self.v('bs')}, {self.n} - cv_n0)")
        w.emit(2, f"for cv_grp in range({self.p.groups}):")

    def direct_product(self, a: str, b: str, out: str, beta: str = "0.0") -> int:
        """Emit ``if cv_direct: out = a @ b + beta * out`` (each sample its own block, the
        operands its rows in place) and ``else:``; the indent of the else branch, where
        the caller multiplies through ``t``."""
        w = self.w
        w.emit(BODY, f"if {self.v('direct')}:")
        w.gemm(BODY + 1, a, b, out, beta)
        w.emit(BODY, "else:")
        return BODY + 1

    def to_columns(self, grouped: str, zero_rest: bool, at: int = BODY) -> None:
        """``t`` (channels by the block's columns) from the block's samples of ``grouped``
        (an ``(N, G, OC/G, L)`` array); ``zero_rest``: columns past a last, partial block
        are zeros (they enter a sum over columns)."""
        if zero_rest:
            t, w = self.v("t"), self.w
            w.emit(at, f"for cv_o in range({self.weight[1]}):")
            w.emit(at + 1, f"for cv_l in range(cv_nb * {self.length}, {t}.shape[1]):")
            w.emit(at + 2, f"{t}[cv_o, cv_l] = 0")
        sample = f"{grouped}[cv_n0 + cv_b, cv_grp, cv_o]"
        self._rows(sample, f"{self.v('t')}[cv_o, cv_at:]", True, at)

    def from_columns(self, grouped: str, at: int = BODY) -> None:
        """The block's samples of ``grouped`` (``(N, G, OC/G, L)``) from ``t``."""
        sample = f"{grouped}[cv_n0 + cv_b, cv_grp, cv_o]"
        self._rows(sample, f"{self.v('t')}[cv_o, cv_at:]", False, at)

    def _rows(self, sample: str, columns: str, into_columns: bool, at: int) -> None:
        w = self.w
        w.emit(at, "for cv_b in range(cv_nb):")
        w.emit(at + 1, f"cv_at = cv_b * {self.length}")
        w.emit(at + 1, f"for cv_o in range({self.weight[1]}):")
        target, source = (columns, sample) if into_columns else (sample, columns)
        w.emit(at + 2, f"cv_dst = {target}")
        w.emit(at + 2, f"cv_src = {source}")
        w.emit(at + 2, f"for cv_l in range({self.length}):")
        w.emit(at + 3, "cv_dst[cv_l] = cv_src[cv_l]")

    def windows(self, array: str, scatter: bool) -> None:
        """Copy the windows of the block's samples of ``array`` into the columns, or
        (``scatter``) add the columns back into ``array``; positions in the padding are
        skipped."""
        w, p, d = self.w, self.p, len(self.kernel)
        indent = BODY
        w.emit(indent, "for cv_b in range(cv_nb):")
        w.emit(indent + 1, "cv_n = cv_n0 + cv_b")
        w.emit(indent + 1, f"for cv_c in range({self.cg}):")
        w.emit(indent + 2, f"cv_ch = cv_grp * {self.cg} + cv_c")
        indent += 2
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
        offset = [f"cv_b * {self.length}"]
        for j in range(last):
            w.emit(indent, f"for cv_o{j} in range({self.outs[j]}):")
            indent += 1
            w.emit(indent, f"cv_i{j} = {_position(j, p)}")
            if p.lo[j] or p.hi[j]:  # a window row in the padding: nothing to read
                w.emit(indent, f"if cv_i{j} < 0 or cv_i{j} >= {self.spatial[j]}:")
                w.emit(indent + 1, "continue")
            offset.append(f"cv_o{j} * {' * '.join(self.outs[j + 1 :])}")
        w.emit(indent, f"cv_cnt = {stop} - {first}" if first != "0" else f"cv_cnt = {stop}")
        w.emit(indent, f"cv_m = {' + '.join(offset)}" + (f" + {first}" if first != "0" else ""))
        w.emit(indent, f"cv_s = {_position(last, p, first)}")
        picked = ", ".join(["cv_n", "cv_ch", *(f"cv_i{j}" for j in range(last))])
        if s_last == 1:
            w.emit(indent, f"cv_img = {array}[{picked}, cv_s:cv_s + cv_cnt]")
        else:
            end = f"cv_s + (cv_cnt - 1) * {s_last} + 1"
            w.emit(indent, f"cv_img = {array}[{picked}, cv_s:{end}:{s_last}]")
        w.emit(indent, f"cv_row = {self.v('cols')}[cv_r, cv_m:cv_m + cv_cnt]")
        w.emit(indent, "for cv_q in range(cv_cnt):")
        if scatter:
            w.emit(indent + 1, "cv_img[cv_q] += cv_row[cv_q]")
        else:
            w.emit(indent + 1, "cv_row[cv_q] = cv_img[cv_q]")


def _position(j: int, p: Any, at: str | None = None) -> str:
    """The input index read by output position ``at`` (``cv_o{j}``) of dim ``j`` at
    kernel offset ``cv_k{j}``."""
    at = at or f"cv_o{j}"
    terms = [] if at == "0" else [f"{at} * {p.stride[j]}" if p.stride[j] != 1 else at]
    terms.append(f"cv_k{j} * {p.dilation[j]}" if p.dilation[j] != 1 else f"cv_k{j}")
    return " + ".join(terms) + (f" - {p.lo[j]}" if p.lo[j] else "")
