"""Kernel lines of stride-1 convolutions through the micro-kernels of
:mod:`symgrad.compiler.conv_tiles` (no im2col).

Each sample is copied into a zero-padded flat image (``cv_src``: channels of
``prod(padded)`` values, then slack for the last tile); a window element is then at a
fixed offset from its output position, counted in the image's own row length, and
the tiles multiply the image in place.  The three ops:

- ``conv``: ``acc = w @ windows(x)``, its rows copied into the output without the
  positions that wrap from one row into the next;
- ``conv_input_grad``: the full correlation of the upstream gradient, padded by
  ``dilation * (kernel - 1)``, with the flipped weight (input and output channels
  swapped), cropped to the input;
- ``conv_weight_grad``: ``g @ windows(x).T``, the upstream gradient spread over the
  image's row length (zeros at the wrapped positions, which are masked in the image
  too), summed in vectors of partial sums that the kernel adds up at the end.

Rows (output channels) are padded to the tiles' 4 with zero weights; the weight
gradient's patch to a multiple of 3 with offset 0.  A stride above 1, or rows that
would be mostly padding (:func:`tiled`), keep the im2col kernels of
:mod:`symgrad.ir.primitives.conv_kernel`.

Example:
    >>> from symgrad.ir.primitives.conv import ConvParams
    >>> p = ConvParams((1, 1), (1, 1), (1, 1), (2, 2))
    >>> tiled(p, 16), tiled(p, 1), tiled(ConvParams((2,), (0,), (0,), (1,)), 16)
    (True, False, False)
"""

from __future__ import annotations

import math
from typing import Any

from symgrad.ir.primitives.conv_kernel import ConvKernel, out_size_code

TILE_ROWS, TILE_COLUMNS = 4, 3  # sg_conv_tile's rows, sg_conv_tile_dw's patch columns


def tiled(p: Any, rows: int) -> bool:
    """Whether an op of convolution ``p`` whose product has ``rows`` rows (output
    channels per group; the input gradient's: input channels) runs through the
    micro-kernels: every stride 1, and the rows padded to the tiles' 4 at most 1.4 times
    as many (1, 2 or 5 rows keep im2col plus BLAS: a single-channel image's input
    gradient ran 1.5x slower through tiles of 4 rows)."""
    return all(s == 1 for s in p.stride) and _up(rows, TILE_ROWS) <= 1.4 * rows


def _up(size: int, multiple: int) -> int:
    return -(-size // multiple) * multiple


class TiledConv:
    """Kernel lines of one tiled convolution op; ``k`` gives names and static sizes."""

    def __init__(self, k: ConvKernel):
        self.k, self.w, self.p = k, k.w, k.p
        self.d = len(k.kernel)
        self.lanes = 8 if k.dtype == "float32" else 4
        self.taps = math.prod(k.kernel)
        k.w.helpers.add("sg_conv_tiles")

    def v(self, stem: str) -> str:
        return self.k.v(stem)

    def zeros(self, shape: str) -> str:
        """A 2-D zeros array of the op's dtype: every scratch array is one (flat ones as
        row 0), so a kernel compiles NumPy's allocation for one more signature at most."""
        return f"np.zeros(({shape}), np.{self.k.dtype})"

    # --- shared lines --------------------------------------------------------------
    def sizes(self, image: str) -> None:
        """Batch ``n``, spatial ``s{j}`` (of ``image``) and output ``o{j}`` sizes."""
        k, w = self.k, self.w
        w.emit(1, f"{k.n} = {image}.shape[0]")
        for j, size in enumerate(k.kernel):
            w.emit(1, f"{k.spatial[j]} = {image}.shape[{2 + j}]")
            w.emit(1, f"{k.outs[j]} = {out_size_code(k.spatial[j], size, self.p, j)}")

    def image(self, dims: list[str], positions: list[str], channels: int, multiple: int) -> None:
        """The padded image's sizes ``pad{j}`` (``dims``), row lengths ``f{j}``, channel
        size ``cs``, the span of ``positions`` (per dim) rounded up to ``multiple``
        (``pt``) and the zeroed image buffer ``src`` of ``channels`` channels."""
        w, v = self.w, self.v
        for j, dim in enumerate(dims):
            w.emit(1, f"{v(f'pad{j}')} = {dim}")
        w.emit(1, f"{v(f'f{self.d - 1}')} = 1")
        for j in reversed(range(self.d - 1)):
            w.emit(1, f"{v(f'f{j}')} = {v(f'f{j + 1}')} * {v(f'pad{j + 1}')}")
        w.emit(1, f"{v('cs')} = {v('f0')} * {v('pad0')}")
        terms = [f"({positions[j]} - 1) * {v(f'f{j}')}" for j in range(self.d - 1)]
        w.emit(1, f"{v('span')} = {' + '.join([*terms, positions[-1]])}")
        w.emit(1, f"{v('pt')} = -(-{v('span')} // {multiple}) * {multiple}")
        size = f"{channels} * {v('cs')} + {v('pt')}"
        w.emit(1, f"{v('src')} = {self.zeros(f'1, {size}')}[0]")

    def offsets(self, channels: int, count: int) -> None:
        """``offs[c * taps + tap]``: the flat offset of tap ``tap`` of channel ``c`` (of
        ``channels``), ``count`` entries (the rest 0)."""
        w, v, p = self.w, self.v, self.p
        w.emit(1, f"{v('offs')} = np.zeros({count}, np.int64)")
        w.emit(1, f"for cv_c in range({channels}):")
        indent = 2
        for j, size in enumerate(self.k.kernel):
            w.emit(indent, f"for cv_k{j} in range({size}):")
            indent += 1
        tap, span = [], 1
        for j in reversed(range(self.d)):
            tap.insert(0, f"cv_k{j} * {span}" if span != 1 else f"cv_k{j}")
            span *= self.k.kernel[j]
        dilated = [
            f"cv_k{j} * {p.dilation[j]}" if p.dilation[j] != 1 else f"cv_k{j}"
            for j in range(self.d)
        ]
        at = " + ".join(f"{dilated[j]} * {v(f'f{j}')}" for j in range(self.d))
        w.emit(
            indent, f"{v('offs')}[cv_c * {self.taps} + {' + '.join(tap)}] = cv_c * {v('cs')} + {at}"
        )

    def rows(self, indent: int, counts: list[str], body: Any) -> int:
        """Loops ``cv_u{j}`` over all dims but the last (``counts``); ``body(indent, at)``
        gets the flat row offset ``at`` (in the padded image's row lengths)."""
        for j in range(self.d - 1):
            self.w.emit(indent, f"for cv_u{j} in range({counts[j]}):")
            indent += 1
        terms = [f"cv_u{j} * {self.v(f'f{j}')}" for j in range(self.d - 1)]
        return body(indent, " + ".join(terms) or "0")

    def copy(self, indent: int, dst: str, src: str, count: str) -> None:
        self.w.emit(indent, f"cv_dst = {dst}")
        self.w.emit(indent, f"cv_from = {src}")
        self.w.emit(indent, f"for cv_q in range({count}):")
        self.w.emit(indent + 1, "cv_dst[cv_q] = cv_from[cv_q]")

    def load(self, array: str, channels: int, sizes: list[str], shift: list[int]) -> None:
        """Copy sample ``cv_b`` of ``array`` (``channels`` channels of ``sizes``) into the
        image, each dim starting at ``shift[j]`` (the padding before it)."""
        v, last = self.v, self.d - 1
        self.w.emit(2, f"for cv_ch in range({channels}):")

        def body(indent: int, at: str) -> None:
            start = f"cv_ch * {v('cs')} + {self._shifted(at, shift)}"
            row = ", ".join(["cv_b", "cv_ch", *(f"cv_u{j}" for j in range(last))])
            dst = f"{v('src')}[{start}:{start} + {sizes[last]}]"
            self.copy(indent, dst, f"{array}[{row}]", sizes[last])

        self.rows(3, sizes, body)

    def _shifted(self, at: str, shift: list[int]) -> str:
        """``at`` moved by ``shift[j]`` in every dim."""
        terms = [at] if at != "0" else []
        terms += [f"{shift[j]} * {self.v(f'f{j}')}" for j in range(self.d - 1) if shift[j]]
        terms += [str(shift[-1])] if shift[-1] else []
        return " + ".join(terms) or "0"

    def scatter_rows(
        self, indent: int, target: str, channel: str, sizes: list[str], shift: list[int]
    ) -> None:
        """``target[cv_b, channel, ...]`` from row ``cv_o`` of ``acc``, dims starting at
        ``shift`` there (the wrapped positions and the crop are dropped)."""
        last = self.d - 1

        def body(at_indent: int, at: str) -> None:
            start = self._shifted(at, shift)
            row = ", ".join(["cv_b", channel, *(f"cv_u{j}" for j in range(last))])
            acc = f"{self.v('acc')}[cv_o, {start}:{start} + {sizes[last]}]"
            self.copy(at_indent, f"{target}[{row}]", acc, sizes[last])

        self.rows(indent, sizes, body)

    # --- the three ops -------------------------------------------------------------
    def forward(self, x: str, weight: str, target: str) -> None:
        k, w, v, p = self.k, self.w, self.v, self.p
        cg, ocg, patch = k.cg, k.weight[1], k.patch
        self.sizes(x)
        pads = [p.lo[j] + p.hi[j] for j in range(self.d)]
        self.image(_plus(k.spatial, pads), k.outs, p.groups * cg, 3 * self.lanes)
        self.offsets(cg, patch)
        rows = _up(ocg, TILE_ROWS)
        w.emit(1, f"{v('wr')} = np.ascontiguousarray({weight}).reshape({k.weight})")
        shape = f"({p.groups}, {rows}, {patch})"
        w.emit(1, f"{v('wm')} = {self.zeros(f'{p.groups * rows}, {patch}')}.reshape({shape})")
        w.emit(1, f"for cv_grp in range({p.groups}):")
        w.emit(2, f"for cv_o in range({ocg}):")
        w.emit(3, f"for cv_t in range({patch}):")
        w.emit(4, f"{v('wm')}[cv_grp, cv_o, cv_t] = {v('wr')}[cv_grp, cv_o, cv_t]")
        w.emit(1, f"{v('acc')} = np.empty(({rows}, {v('pt')}), np.{k.dtype})")
        w.emit(1, f"for cv_b in range({k.n}):")
        self.load(x, p.groups * cg, k.spatial, list(p.lo))
        w.emit(2, f"for cv_grp in range({p.groups}):")
        base = f"cv_grp * {cg} * {v('cs')}"
        w.emit(3, f"sg_conv_rows({v('src')}, {v('offs')}, {v('wm')}[cv_grp], {v('acc')}, {base})")
        w.emit(3, f"for cv_o in range({ocg}):")
        self.scatter_rows(4, target, f"cv_grp * {ocg} + cv_o", k.outs, [0] * self.d)

    def input_grad(self, g: str, weight: str, target: str) -> None:
        k, w, v, p = self.k, self.w, self.v, self.p
        cg, ocg, taps, groups = k.cg, k.weight[1], self.taps, p.groups
        self.sizes(target)
        edges = [p.dilation[j] * (size - 1) for j, size in enumerate(k.kernel)]
        padded = _plus(k.spatial, [p.lo[j] + p.hi[j] for j in range(self.d)])
        self.image(_plus(k.outs, [2 * e for e in edges]), padded, groups * ocg, 3 * self.lanes)
        self.offsets(ocg, ocg * taps)
        rows = _up(cg, TILE_ROWS)
        w.emit(
            1, f"{v('wr')} = np.ascontiguousarray({weight}).reshape(({groups * ocg}, {cg}, {taps}))"
        )
        shape = f"({groups}, {rows}, {ocg * taps})"
        w.emit(1, f"{v('wm')} = {self.zeros(f'{groups * rows}, {ocg * taps}')}.reshape({shape})")
        w.emit(1, f"for cv_grp in range({groups}):")
        w.emit(2, f"for cv_o in range({ocg}):")
        w.emit(3, f"for cv_c in range({cg}):")
        w.emit(4, f"for cv_t in range({taps}):")
        flipped = f"{v('wr')}[cv_grp * {ocg} + cv_o, cv_c, {taps - 1} - cv_t]"
        w.emit(5, f"{v('wm')}[cv_grp, cv_c, cv_o * {taps} + cv_t] = {flipped}")
        w.emit(1, f"{v('acc')} = np.empty(({rows}, {v('pt')}), np.{k.dtype})")
        w.emit(1, f"for cv_b in range({k.n}):")
        self.load(g, groups * ocg, k.outs, edges)
        w.emit(2, f"for cv_grp in range({groups}):")
        base = f"cv_grp * {ocg} * {v('cs')}"
        w.emit(3, f"sg_conv_rows({v('src')}, {v('offs')}, {v('wm')}[cv_grp], {v('acc')}, {base})")
        w.emit(3, f"for cv_o in range({cg}):")
        self.scatter_rows(4, target, f"cv_grp * {cg} + cv_o", k.spatial, list(p.lo))

    def weight_grad(self, x: str, g: str, target: str) -> None:
        k, w, v, p = self.k, self.w, self.v, self.p
        cg, ocg, patch, groups, lanes = k.cg, k.weight[1], k.patch, p.groups, self.lanes
        rows, columns = _up(ocg, TILE_ROWS), _up(patch, TILE_COLUMNS)
        self.sizes(x)
        pads = [p.lo[j] + p.hi[j] for j in range(self.d)]
        self.image(_plus(k.spatial, pads), k.outs, groups * cg, lanes)
        self.offsets(cg, columns)
        positions = v("pt")
        w.emit(1, f"{v('gw')} = {self.zeros(f'{rows}, {positions}')}")
        w.emit(1, f"{v('keep')} = {self.zeros(f'1, {positions}')}[0]")

        def keep(indent: int, at: str) -> None:
            w.emit(indent, f"for cv_q in range({k.outs[-1]}):")
            w.emit(indent + 1, f"{v('keep')}[{at} + cv_q] = 1")

        self.rows(1, k.outs, keep)
        dwv = v("dwv")
        shape = f"({groups}, {rows}, {columns * lanes})"
        w.emit(1, f"{dwv} = {self.zeros(f'{groups * rows}, {columns * lanes}')}.reshape({shape})")
        w.emit(1, f"for cv_b in range({k.n}):")
        self.load(x, groups * cg, k.spatial, list(p.lo))
        w.emit(2, f"for cv_grp in range({groups}):")
        w.emit(3, f"for cv_o in range({ocg}):")
        last = self.d - 1

        def gather(indent: int, at: str) -> None:
            row = ", ".join(["cv_b", f"cv_grp * {ocg} + cv_o", *(f"cv_u{j}" for j in range(last))])
            dst = f"{v('gw')}[cv_o, {at}:{at} + {k.outs[-1]}]"
            self.copy(indent, dst, f"{g}[{row}]", k.outs[-1])

        self.rows(4, k.outs, gather)
        base = f"cv_grp * {cg} * {v('cs')}"
        call = f"sg_conv_dw({v('src')}, {v('offs')}, {v('gw')}, {dwv}[cv_grp], {v('keep')}, {base})"
        w.emit(3, call)
        w.emit(1, f"{v('dw')} = {target}.reshape(({groups * ocg}, {patch}))")
        w.emit(1, f"for cv_grp in range({groups}):")
        w.emit(2, f"for cv_o in range({ocg}):")
        w.emit(3, f"for cv_t in range({patch}):")
        w.emit(4, f"cv_sum = {dwv}[cv_grp, cv_o, cv_t * {lanes}]")
        w.emit(4, f"for cv_l in range(1, {lanes}):")
        w.emit(5, f"cv_sum += {dwv}[cv_grp, cv_o, cv_t * {lanes} + cv_l]")
        w.emit(4, f"{v('dw')}[cv_grp * {ocg} + cv_o, cv_t] = cv_sum")


def _plus(sizes: list[str], extra: list[int]) -> list[str]:
    """Size codes grown by ``extra``."""
    return [f"{s} + {e}" if e else s for s, e in zip(sizes, extra, strict=True)]
