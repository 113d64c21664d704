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
In compiled code both are Numba intrinsics, whole loop nests in LLVM IR (as ``@njit``
helpers each cost a function compile, 0.4 s); each checks every array's bounds once
per call and raises ``ValueError`` before a tile could read or write outside one.
Called from Python (a kernel's ``py_func``) they are NumPy.

On a 28x28 forward (32 samples, 16 channels in, 32 out, 3x3, float32, one thread) the
tiles ran at 75-85 GFLOP/s, the dropped positions counted (7% of the work there): 2.5-2.8
ms against 3.7-4.5 ms for im2col plus NumPy's BLAS, whose products of these shapes ran
at 55 GFLOP/s.

This file is kernel source too (as :mod:`symgrad.compiler.blas`): kernels include the
text below the marker line, so it imports no symgrad and its names start with ``sg_``.

Example (inside compiled code, as kernels call it):
    >>> import numpy as np
    >>> from numba import njit
    >>> @njit
    ... def windows(src, offs, wm, acc):
    ...     sg_conv_rows(src, offs, wm, acc, 0)
    >>> src = np.arange(40.0)                    # one channel, 4 x 4, then slack zeros
    >>> src[16:] = 0
    >>> offs = np.array([0, 1, 4, 5])            # a 2 x 2 kernel on rows of length 4
    >>> wm = np.zeros((4, 4)); wm[0] = 1         # one output channel (rows padded to 4)
    >>> acc = np.empty((4, 12))                  # 3 output rows of 4 (3 kept): 12
    >>> windows(src, offs, wm, acc)
    >>> acc[0, :3]                               # x[0:2, 0:2].sum(), then shifted by 1
    array([10., 14., 18.])
"""

# --- kernel text ---
import numpy as np
from llvmlite import ir as sg_ir
from numba import types as sg_types
from numba.core import cgutils as sg_cgutils
from numba.core import errors as sg_errors
from numba.extending import intrinsic as sg_intrinsic
from numba.extending import overload as sg_overload

SG_TILE_ROWS, SG_TILE_VECTORS = 4, 3  # 12 vector accumulators: 16 registers with AVX2


def sg_tile_types(context, src, offs, mat, out, keep=None):
    """LLVM's vector type for the tile intrinsics and its lanes; checks the Numba types:
    a flat float image ``src``, int64 offsets, matrices ``mat`` and ``out`` (and a flat
    ``keep``) of the image's dtype, all C-contiguous."""
    arrays = (src, offs, mat, out) + (() if keep is None else (keep,))
    dims = (1, 1, 2, 2, 1)
    if not all(
        isinstance(a, sg_types.Array) and a.layout == "C" and a.ndim == d
        for a, d in zip(arrays, dims, strict=False)
    ):
        raise sg_errors.TypingError(f"conv tiles take C-contiguous arrays, got {arrays}")
    floats = (sg_types.float32, sg_types.float64)
    same = {mat.dtype, out.dtype} | (set() if keep is None else {keep.dtype})
    if src.dtype not in floats or same != {src.dtype} or offs.dtype != sg_types.int64:
        raise sg_errors.TypingError(f"conv tiles need one float dtype, int64 offsets: {arrays}")
    lanes = 8 if src.dtype == sg_types.float32 else 4
    return sg_ir.VectorType(context.get_value_type(src.dtype), lanes), lanes


def sg_int(value):
    return sg_ir.Constant(sg_ir.IntType(64), value)


def sg_shape(builder, proxy, ndim):
    return sg_cgutils.unpack_tuple(builder, proxy.shape, ndim)


def sg_proxies(context, builder, types, values):
    """Numba's array structs of ``values`` (of ``types``)."""
    return [
        sg_cgutils.create_struct_proxy(t)(context, builder, value=v)
        for t, v in zip(types, values, strict=True)
    ]


def sg_loop(builder, count, carried, body):
    """``for k in range(count)`` (``count`` >= 1) carrying LLVM values ``carried``;
    ``body(k, values)`` returns the next values; the values after the loop."""
    before = builder.block
    loop = builder.append_basic_block("sg_tile_loop")
    done = builder.append_basic_block("sg_tile_done")
    builder.branch(loop)
    builder.position_at_end(loop)
    k = builder.phi(sg_ir.IntType(64))
    k.add_incoming(sg_int(0), before)
    values = [builder.phi(value.type) for value in carried]
    for phi, value in zip(values, carried, strict=True):
        phi.add_incoming(value, before)
    following = body(k, values)
    after = builder.add(k, sg_int(1))
    k.add_incoming(after, builder.block)
    for phi, value in zip(values, following, strict=True):
        phi.add_incoming(value, builder.block)
    builder.cbranch(builder.icmp_signed("<", after, count), loop, done)
    builder.position_at_end(done)
    return following


def sg_fail_if(context, builder, conditions, message):
    """Raise ``ValueError(message)`` from the kernel if any of ``conditions`` holds."""
    bad = conditions[0]
    for condition in conditions[1:]:
        bad = builder.or_(bad, condition)
    with builder.if_then(bad, likely=False):
        context.call_conv.return_user_exc(builder, ValueError, (message,))


def sg_check_windows(context, builder, src, offs, base, positions, name):
    """Raise unless ``src[base + offs[k] + p]`` is inside ``src`` for every ``k`` and
    ``p < positions`` (``offs`` has at least one entry)."""
    first = builder.load(offs.data)

    def extremes(k, values):
        offset = builder.load(builder.gep(offs.data, [k]))
        low, high = values
        return [
            builder.select(builder.icmp_signed("<", offset, low), offset, low),
            builder.select(builder.icmp_signed(">", offset, high), offset, high),
        ]

    count = sg_shape(builder, offs, 1)[0]
    low, high = sg_loop(builder, count, [first, first], extremes)
    end = builder.add(builder.add(base, high), positions)
    size = sg_shape(builder, src, 1)[0]
    outside = [builder.icmp_signed("<", low, sg_int(0)), builder.icmp_signed(">", end, size)]
    sg_fail_if(context, builder, outside, f"{name}: a window reads outside the image")


def sg_fma(builder, vector, lanes):
    """``a * b + c`` of vectors: LLVM's ``fmuladd``, one fused instruction where the CPU
    has one (``llvm.fma`` would call a slow software fma where it has not)."""
    name = f"llvm.fmuladd.v{lanes}{'f32' if lanes == 8 else 'f64'}"
    function = sg_ir.FunctionType(vector, [vector] * 3)
    return sg_cgutils.get_or_insert_function(builder.module, function, name)


def sg_vector_at(builder, base, at, vector):
    """A pointer to the (unaligned) vector at element ``at`` after pointer ``base``."""
    return builder.bitcast(builder.gep(base, [at]), vector.as_pointer())


def sg_load(builder, base, at, vector):
    return builder.load(sg_vector_at(builder, base, at, vector), align=1)


@sg_intrinsic
def sg_conv_rows_tiles(typingctx, src, offs, wm, acc, base):
    """``acc[o, p] = sum_k wm[o, k] * src[base + offs[k] + p]``: rows a multiple of 4,
    positions of 3 vectors (24 float32, 12 float64); ``ValueError`` otherwise, or if a
    window would read outside ``src``."""
    sig = sg_types.void(src, offs, wm, acc, sg_types.int64)

    def codegen(context, builder, signature, args):
        vector, lanes = sg_tile_types(context, src, offs, wm, acc)
        s, f, m, a = sg_proxies(context, builder, signature.args[:4], args[:4])
        base, width = args[4], SG_TILE_VECTORS * lanes
        (rows, count), (acc_rows, positions) = sg_shape(builder, m, 2), sg_shape(builder, a, 2)
        misfits = [
            builder.icmp_signed("!=", builder.srem(rows, sg_int(SG_TILE_ROWS)), sg_int(0)),
            builder.icmp_signed("!=", acc_rows, rows),
            builder.icmp_signed("!=", count, sg_shape(builder, f, 1)[0]),
            builder.icmp_signed("<", count, sg_int(1)),
            builder.icmp_signed("!=", builder.srem(positions, sg_int(width)), sg_int(0)),
            builder.icmp_signed("<", base, sg_int(0)),
        ]
        sg_fail_if(context, builder, misfits, "sg_conv_rows: the arrays do not fit the tiles")
        sg_check_windows(context, builder, s, f, base, positions, "sg_conv_rows")
        fma = sg_fma(builder, vector, lanes)
        int32 = sg_ir.IntType(32)
        undefined = sg_ir.Constant(vector, sg_ir.Undefined)
        broadcast = sg_ir.Constant(sg_ir.VectorType(int32, lanes), [0] * lanes)
        zero = sg_ir.Constant(vector, [0.0] * lanes)
        step = sg_int(SG_TILE_ROWS)
        with sg_cgutils.for_range_slice(builder, sg_int(0), positions, sg_int(width)) as (p0, _):
            start = builder.gep(s.data, [builder.add(base, p0)])
            with sg_cgutils.for_range_slice(builder, sg_int(0), rows, step) as (o0, _):
                tile = [builder.add(o0, sg_int(r)) for r in range(SG_TILE_ROWS)]
                weights = [builder.gep(m.data, [builder.mul(r, count)]) for r in tile]

                def product(k, values):
                    at = builder.gep(start, [builder.load(builder.gep(f.data, [k]))])
                    xs = [sg_load(builder, at, sg_int(v * lanes), vector) for v in range(3)]
                    following = []
                    for r in range(SG_TILE_ROWS):
                        scalar = builder.load(builder.gep(weights[r], [k]))
                        one = builder.insert_element(undefined, scalar, sg_ir.Constant(int32, 0))
                        splat = builder.shuffle_vector(one, undefined, broadcast)
                        for v in range(SG_TILE_VECTORS):
                            value = values[r * SG_TILE_VECTORS + v]
                            following.append(builder.call(fma, [splat, xs[v], value]))
                    return following

                sums = sg_loop(builder, count, [zero] * 12, product)
                for r in range(SG_TILE_ROWS):
                    row = builder.gep(a.data, [builder.add(builder.mul(tile[r], positions), p0)])
                    for v in range(SG_TILE_VECTORS):
                        pointer = sg_vector_at(builder, row, sg_int(v * lanes), vector)
                        builder.store(sums[r * SG_TILE_VECTORS + v], pointer, align=1)
        return context.get_dummy_value()

    return sig, codegen


@sg_intrinsic
def sg_conv_dw_tiles(typingctx, src, offs, g, dwv, keep, base):
    """``dwv[o, k*lanes:(k+1)*lanes] += lane sums of g[o, p] * src[base + offs[k] + p]``
    over the positions where ``keep[p]`` is not 0 (``g`` must be 0 where it is: the image
    is read as 0 there, so an infinite value cannot make 0 * inf = NaN): rows a multiple
    of 4, offsets of 3, positions of ``lanes`` (8 float32, 4 float64); ``ValueError``
    otherwise, or if a window would read outside ``src``."""
    sig = sg_types.void(src, offs, g, dwv, keep, sg_types.int64)

    def codegen(context, builder, signature, args):
        vector, lanes = sg_tile_types(context, src, offs, g, dwv, keep)
        s, f, m, a, kept = sg_proxies(context, builder, signature.args[:5], args[:5])
        base = args[5]
        (rows, positions), (dw_rows, dw_columns) = sg_shape(builder, m, 2), sg_shape(builder, a, 2)
        count = sg_shape(builder, f, 1)[0]
        misfits = [
            builder.icmp_signed("!=", builder.srem(rows, sg_int(SG_TILE_ROWS)), sg_int(0)),
            builder.icmp_signed("!=", builder.srem(count, sg_int(SG_TILE_VECTORS)), sg_int(0)),
            builder.icmp_signed("<", count, sg_int(1)),
            builder.icmp_signed("!=", builder.srem(positions, sg_int(lanes)), sg_int(0)),
            builder.icmp_signed("<", positions, sg_int(1)),
            builder.icmp_signed("!=", dw_rows, rows),
            builder.icmp_signed("!=", dw_columns, builder.mul(count, sg_int(lanes))),
            builder.icmp_signed("!=", sg_shape(builder, kept, 1)[0], positions),
            builder.icmp_signed("<", base, sg_int(0)),
        ]
        sg_fail_if(context, builder, misfits, "sg_conv_dw: the arrays do not fit the tiles")
        sg_check_windows(context, builder, s, f, base, positions, "sg_conv_dw")
        fma = sg_fma(builder, vector, lanes)
        zero = sg_ir.Constant(vector, [0.0] * lanes)
        vectors = builder.sdiv(positions, sg_int(lanes))
        step_rows, step_columns = sg_int(SG_TILE_ROWS), sg_int(SG_TILE_VECTORS)
        with sg_cgutils.for_range_slice(builder, sg_int(0), rows, step_rows) as (o0, _):
            tile = [builder.add(o0, sg_int(r)) for r in range(SG_TILE_ROWS)]
            grads = [builder.gep(m.data, [builder.mul(r, positions)]) for r in tile]
            with sg_cgutils.for_range_slice(builder, sg_int(0), count, step_columns) as (k0, _):
                columns = [builder.add(k0, sg_int(c)) for c in range(SG_TILE_VECTORS)]
                images = [
                    builder.gep(s.data, [builder.add(base, builder.load(builder.gep(f.data, [c])))])
                    for c in columns
                ]

                def product(k, values):
                    at = builder.mul(k, sg_int(lanes))
                    inside = builder.fcmp_ordered(
                        "!=", sg_load(builder, kept.data, at, vector), zero
                    )
                    xs = [
                        builder.select(inside, sg_load(builder, i, at, vector), zero)
                        for i in images
                    ]
                    following = []
                    for r in range(SG_TILE_ROWS):
                        gv = sg_load(builder, grads[r], at, vector)
                        for c in range(SG_TILE_VECTORS):
                            value = values[r * SG_TILE_VECTORS + c]
                            following.append(builder.call(fma, [gv, xs[c], value]))
                    return following

                sums = sg_loop(builder, vectors, [zero] * 12, product)
                for r in range(SG_TILE_ROWS):
                    row = builder.gep(a.data, [builder.mul(tile[r], dw_columns)])
                    for c in range(SG_TILE_VECTORS):
                        at = builder.mul(columns[c], sg_int(lanes))
                        pointer = sg_vector_at(builder, row, at, vector)
                        total = builder.fadd(builder.load(pointer, align=1), sums[r * 3 + c])
                        builder.store(total, pointer, align=1)
        return context.get_dummy_value()

    return sig, codegen


def sg_windows(src, offs, base, positions, name):
    """NumPy: ``src[base + offs[k] + p]`` for every ``k`` and ``p < positions``."""
    if len(offs) == 0 or base < 0 or min(offs) < 0 or base + max(offs) + positions > len(src):
        raise ValueError(f"{name}: a window reads outside the image")
    return np.stack([src[base + o : base + o + positions] for o in offs])


def sg_conv_rows(src, offs, wm, acc, base):
    """``acc[o, p] = sum_k wm[o, k] * src[base + offs[k] + p]``; this is NumPy (a kernel's
    Python function), compiled code runs the tiles of ``sg_conv_rows_tiles``."""
    acc[...] = wm @ sg_windows(src, offs, base, acc.shape[1], "sg_conv_rows")


def sg_conv_dw(src, offs, g, dwv, keep, base):
    """Add ``g @ windows.T`` (the image read as 0 where ``keep`` is 0) into ``dwv``'s
    groups of lanes (NumPy: into each group's first); compiled: ``sg_conv_dw_tiles``."""
    windows = sg_windows(src, offs, base, g.shape[1], "sg_conv_dw")
    lanes = dwv.shape[1] // len(offs)
    dwv[:, ::lanes] += g @ np.where(keep != 0, windows, 0).T


@sg_overload(sg_conv_rows)
def sg_conv_rows_compiled(src, offs, wm, acc, base):
    return lambda src, offs, wm, acc, base: sg_conv_rows_tiles(src, offs, wm, acc, base)


@sg_overload(sg_conv_dw)
def sg_conv_dw_compiled(src, offs, g, dwv, keep, base):
    return lambda src, offs, g, dwv, keep, base: sg_conv_dw_tiles(src, offs, g, dwv, keep, base)
