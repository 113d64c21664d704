"""Convolution micro-kernels: stride-1 windows multiplied straight from the image, no im2col.

A sample's image (channels, each a flat padded array) is read at ``base + offs[k] + p``:
``offs[k]`` is the flat offset of patch element ``k`` (channel, kernel position) and
``p`` runs over the output positions *in the image's own row length* (an output row is
followed by ``kernel - 1`` positions that wrap into the next row; their values are
computed and dropped).  So a window row is a contiguous run of the image and a tile of
positions is a few vector loads: no copy of each window into columns, no scatter back.

``sg_conv_rows(src, offs, wm, acc, base)`` sets ``acc = wm @ windows`` (the
forward product, and the input gradient as the full correlation of the padded upstream
gradient), 4 rows by ``3 * lanes`` positions per tile with 12 vector accumulators;
``sg_conv_dw(src, offs, g, dwv, keep, base)`` adds ``g @ windows.T`` into ``dwv`` (the
weight gradient), each entry as one vector of ``lanes`` partial sums that the caller
adds up (``lanes`` = 8 for float32, 4 for float64), the dropped positions masked out.
Both check every array's bounds once per call and raise ``ValueError`` before a tile
could read or write outside one.

On a 28x28 forward (32 samples, 16 channels in, 32 out, 3x3, float32, one thread) the
tiles ran at 75-85 GFLOP/s, the dropped positions counted (7% of the work there): 2.5-2.8
ms against 3.7-4.5 ms for im2col plus NumPy's BLAS, whose products of these shapes ran
at 55 GFLOP/s.

This file is kernel source too (as :mod:`symgrad.compiler.blas`): kernels include the
text below the marker line, so it imports no symgrad and its names start with ``sg_``.

Example (inside compiled code, as kernels call it):
    >>> import numpy as np
    >>> src = np.arange(40.0)                    # one channel, 4 x 4, then slack zeros
    >>> src[16:] = 0
    >>> offs = np.array([0, 1, 4, 5])            # a 2 x 2 kernel on rows of length 4
    >>> wm = np.zeros((4, 4)); wm[0] = 1         # one output channel (rows padded to 4)
    >>> acc = np.empty((4, 12))                  # 3 output rows of 4 (3 kept): 12
    >>> sg_conv_rows(src, offs, wm, acc, 0)
    >>> acc[0, :3]                               # x[0:2, 0:2].sum(), then shifted by 1
    array([10., 14., 18.])
"""

# --- kernel text ---
from llvmlite import ir as sg_ir
from numba import njit
from numba import types as sg_types
from numba.core import cgutils as sg_cgutils
from numba.core import errors as sg_errors
from numba.extending import intrinsic as sg_intrinsic

SG_TILE_ROWS, SG_TILE_VECTORS = 4, 3  # 12 vector accumulators: 16 registers with AVX2


def sg_tile_types(context, src, offs, mat, out):
    """LLVM's vector type for the tile intrinsics and its lanes; checks the Numba types."""
    floats = (sg_types.float32, sg_types.float64)
    if not all(isinstance(a, sg_types.Array) and a.layout == "C" for a in (src, offs, mat, out)):
        raise sg_errors.TypingError("conv tiles take C-contiguous arrays")
    if src.ndim != 1 or offs.ndim != 1 or mat.ndim != 2 or out.ndim != 2:
        raise sg_errors.TypingError("conv tiles take a flat image and offsets, 2-D matrices")
    if src.dtype not in floats or {mat.dtype, out.dtype} != {src.dtype}:
        raise sg_errors.TypingError(f"conv tiles need one float dtype, got {src}, {mat}, {out}")
    if offs.dtype != sg_types.int64:
        raise sg_errors.TypingError(f"conv tile offsets are int64, got {offs}")
    lanes = 8 if src.dtype == sg_types.float32 else 4
    return sg_ir.VectorType(context.get_value_type(src.dtype), lanes), lanes


def sg_tile_loop(builder, count, accumulators, body):
    """``for k in range(count)`` (``count`` >= 1) carrying ``accumulators`` (LLVM values);
    ``body(k, values)`` returns the next values; the values after the loop."""
    int64 = sg_ir.IntType(64)
    before = builder.block
    loop = builder.append_basic_block("sg_tile_loop")
    done = builder.append_basic_block("sg_tile_done")
    builder.branch(loop)
    builder.position_at_end(loop)
    k = builder.phi(int64)
    k.add_incoming(sg_ir.Constant(int64, 0), before)
    carried = [builder.phi(a.type) for a in accumulators]
    for phi, value in zip(carried, accumulators, strict=True):
        phi.add_incoming(value, before)
    following = body(k, carried)
    after = builder.add(k, sg_ir.Constant(int64, 1))
    k.add_incoming(after, builder.block)
    for phi, value in zip(carried, following, strict=True):
        phi.add_incoming(value, builder.block)
    builder.cbranch(builder.icmp_signed("<", after, count), loop, done)
    builder.position_at_end(done)
    return following


def sg_fma(builder, vector, lanes):
    """``a * b + c`` of vectors: LLVM's ``fmuladd``, one fused instruction where the CPU
    has one (``llvm.fma`` would call a slow software fma where it has not)."""
    name = f"llvm.fmuladd.v{lanes}{'f32' if lanes == 8 else 'f64'}"
    function = sg_ir.FunctionType(vector, [vector] * 3)
    return sg_cgutils.get_or_insert_function(builder.module, function, name)


def sg_vector_at(builder, pointer, vector):
    """``pointer`` (to an element) as a pointer to an unaligned vector."""
    return builder.bitcast(pointer, vector.as_pointer())


def sg_proxies(context, builder, types, values):
    """Numba's array structs of ``values`` (of ``types``)."""
    return [
        sg_cgutils.create_struct_proxy(t)(context, builder, value=v)
        for t, v in zip(types, values, strict=True)
    ]


def sg_load(builder, base, at, vector):
    """The unaligned vector at element ``at`` (an LLVM int64) after pointer ``base``."""
    return builder.load(sg_vector_at(builder, builder.gep(base, [at]), vector), align=1)


def sg_constant(value):
    return sg_ir.Constant(sg_ir.IntType(64), value)


@sg_intrinsic
def sg_conv_tile(typingctx, src, offs, wm, acc, base, p0, o0):
    """``acc[o0:o0+4, p0:p0+3*lanes] = wm[o0:o0+4] @ src[base + offs[:, None] + p]``."""
    sig = sg_types.void(src, offs, wm, acc, sg_types.int64, sg_types.int64, sg_types.int64)

    def codegen(context, builder, signature, args):
        vector, lanes = sg_tile_types(context, src, offs, wm, acc)
        int32 = sg_ir.IntType(32)
        s, f, m, a = sg_proxies(context, builder, signature.args[:4], args[:4])
        base, p0, o0 = args[4:]
        count = sg_cgutils.unpack_tuple(builder, m.shape, 2)[1]
        row_length = sg_cgutils.unpack_tuple(builder, a.shape, 2)[1]
        fma = sg_fma(builder, vector, lanes)
        rows = [builder.add(o0, sg_constant(r)) for r in range(SG_TILE_ROWS)]
        weights = [builder.gep(m.data, [builder.mul(r, count)]) for r in rows]
        start = builder.gep(s.data, [builder.add(base, p0)])
        undefined = sg_ir.Constant(vector, sg_ir.Undefined)
        broadcast = sg_ir.Constant(sg_ir.VectorType(int32, lanes), [0] * lanes)

        def step(k, values):
            at = builder.gep(start, [builder.load(builder.gep(f.data, [k]))])
            loads = [sg_load(builder, at, sg_constant(v * lanes), vector) for v in range(3)]
            following = []
            for r in range(SG_TILE_ROWS):
                scalar = builder.load(builder.gep(weights[r], [k]))
                one = builder.insert_element(undefined, scalar, sg_ir.Constant(int32, 0))
                splat = builder.shuffle_vector(one, undefined, broadcast)
                for v in range(SG_TILE_VECTORS):
                    following.append(builder.call(fma, [splat, loads[v], values[r * 3 + v]]))
            return following

        zero = sg_ir.Constant(vector, [0.0] * lanes)
        sums = sg_tile_loop(builder, count, [zero] * (SG_TILE_ROWS * SG_TILE_VECTORS), step)
        for r in range(SG_TILE_ROWS):
            row = builder.gep(a.data, [builder.add(builder.mul(rows[r], row_length), p0)])
            for v in range(SG_TILE_VECTORS):
                at = builder.gep(row, [sg_constant(v * lanes)])
                builder.store(sums[r * 3 + v], sg_vector_at(builder, at, vector), align=1)
        return context.get_dummy_value()

    return sig, codegen


@sg_intrinsic
def sg_conv_tile_dw(typingctx, src, offs, g, dwv, keep, base, o0, k0):
    """``dwv[o0+r, (k0+m)*lanes:][:lanes] += lane sums of g[o0+r] * src[base + offs[k0+m] + p]``
    over every ``p < g.shape[1]`` (a multiple of ``lanes``), 4 rows by 3 offsets; image
    values where ``keep[p]`` (an integer as wide as the float) is 0 rather than -1 (all
    bits) are read as 0, so an infinite one there cannot make 0 * inf = NaN."""
    bits_type = sg_types.int32 if src.dtype == sg_types.float32 else sg_types.int64
    if not (isinstance(keep, sg_types.Array) and keep.dtype == bits_type and keep.ndim == 1):
        raise sg_errors.TypingError(f"sg_conv_tile_dw: keep must be a 1-D {bits_type} array")
    sig = sg_types.void(src, offs, g, dwv, keep, sg_types.int64, sg_types.int64, sg_types.int64)

    def codegen(context, builder, signature, args):
        vector, lanes = sg_tile_types(context, src, offs, g, dwv)
        bits = sg_ir.VectorType(sg_ir.IntType(256 // lanes), lanes)
        s, f, m, a, kept = sg_proxies(context, builder, signature.args[:5], args[:5])
        base, o0, k0 = args[5:]
        positions = sg_cgutils.unpack_tuple(builder, m.shape, 2)[1]
        row_length = sg_cgutils.unpack_tuple(builder, a.shape, 2)[1]
        count = builder.sdiv(positions, sg_constant(lanes))
        fma = sg_fma(builder, vector, lanes)
        rows = [builder.add(o0, sg_constant(r)) for r in range(SG_TILE_ROWS)]
        grads = [builder.gep(m.data, [builder.mul(r, positions)]) for r in rows]
        columns = [builder.add(k0, sg_constant(c)) for c in range(SG_TILE_VECTORS)]
        images = [
            builder.gep(s.data, [builder.add(base, builder.load(builder.gep(f.data, [c])))])
            for c in columns
        ]

        def step(k, values):
            at = builder.mul(k, sg_constant(lanes))
            mask = sg_load(builder, kept.data, at, bits)
            xs = [
                builder.bitcast(
                    builder.and_(builder.bitcast(sg_load(builder, i, at, vector), bits), mask),
                    vector,
                )
                for i in images
            ]
            following = []
            for r in range(SG_TILE_ROWS):
                gv = sg_load(builder, grads[r], at, vector)
                for c in range(SG_TILE_VECTORS):
                    following.append(builder.call(fma, [gv, xs[c], values[r * 3 + c]]))
            return following

        zero = sg_ir.Constant(vector, [0.0] * lanes)
        sums = sg_tile_loop(builder, count, [zero] * (SG_TILE_ROWS * SG_TILE_VECTORS), step)
        for r in range(SG_TILE_ROWS):
            row = builder.gep(a.data, [builder.mul(rows[r], row_length)])
            for c in range(SG_TILE_VECTORS):
                at = builder.gep(row, [builder.mul(columns[c], sg_constant(lanes))])
                pointer = sg_vector_at(builder, at, vector)
                total = builder.fadd(builder.load(pointer, align=1), sums[r * 3 + c])
                builder.store(total, pointer, align=1)
        return context.get_dummy_value()

    return sig, codegen


@njit(error_model="numpy")
def sg_conv_fits(src, offs, base, positions):
    """Whether reading ``src[base + offs[k] + p]`` for ``p < positions`` stays inside ``src``
    (a loop: ``offs.min()`` and ``offs.max()`` take Numba a second to compile)."""
    if offs.size == 0 or base < 0:
        return False
    low, high = offs[0], offs[0]
    for k in range(1, offs.size):
        low, high = min(low, offs[k]), max(high, offs[k])
    return low >= 0 and base + high + positions <= src.size


@njit(error_model="numpy")
def sg_conv_rows(src, offs, wm, acc, base):
    """``acc[o, p] = sum_k wm[o, k] * src[base + offs[k] + p]``: rows a multiple of 4,
    positions of 3 vectors (24 float32, 12 float64)."""
    rows, width = wm.shape[0], 3 * (32 // src.itemsize)
    positions = acc.shape[1]
    if rows % 4 or acc.shape[0] != rows or wm.shape[1] != offs.size or positions % width:
        raise ValueError("sg_conv_rows: the matrices do not fit the tiles")
    if not sg_conv_fits(src, offs, base, positions):
        raise ValueError("sg_conv_rows: a window reads outside the image")
    for p0 in range(0, positions, width):
        for o0 in range(0, rows, 4):
            sg_conv_tile(src, offs, wm, acc, base, p0, o0)


@njit(error_model="numpy")
def sg_conv_dw(src, offs, g, dwv, keep, base):
    """``dwv[o, k*lanes:(k+1)*lanes] += lane sums of g[o, p] * src[base + offs[k] + p]``
    over the positions where ``keep[p]`` is -1 (``g`` must be 0 where it is 0): rows a
    multiple of 4, offsets of 3, positions of ``lanes`` (8 float32, 4 float64)."""
    rows, positions = g.shape
    lanes = 32 // src.itemsize
    count = offs.size
    if rows % 4 or count % 3 or positions % lanes or positions == 0:
        raise ValueError("sg_conv_dw: the matrices do not fit the tiles")
    if dwv.shape[0] != rows or dwv.shape[1] != count * lanes or keep.size != positions:
        raise ValueError("sg_conv_dw: the matrices do not fit the tiles")
    if not sg_conv_fits(src, offs, base, positions):
        raise ValueError("sg_conv_dw: a window reads outside the image")
    for o0 in range(0, rows, 4):
        for k0 in range(0, count, 3):
            sg_conv_tile_dw(src, offs, g, dwv, keep, base, o0, k0)
