"""Matrix products inside kernels: ``sg_gemm(a, b, out, beta)`` sets ``out = a @ b + beta * out``.

Kernels call the BLAS that NumPy itself uses: the ``scipy_cblas_sgemm64_`` and
``scipy_cblas_dgemm64_`` functions of the OpenBLAS that NumPy's wheels bundle
(``cblas_?gemm64_`` in NumPy 1.x's), found
through NumPy's extension module and registered with LLVM under a name of our own, so
cached machine code links to it again in the next process.  Numba's ``np.dot`` calls
SciPy's copy of OpenBLAS, an older build whose float32 products with few rows (a
convolution's 32 output channels by 144 patch rows) ran 1.15-1.5x slower here; a kernel
calling it also compiled longer (0.6 s against 0.2 s for a first kernel with two).
Where NumPy's library lacks those symbols (another BLAS), ``sg_gemm`` is ``np.dot``.
Called from Python (a kernel's ``py_func``, the printed code run by hand), it is
NumPy's product.

``a`` and ``b`` are C- or F-contiguous 2-D arrays (a ``.T`` view of a C array is passed to
BLAS as it lies), ``out`` a C-contiguous one, all of one float dtype: other layouts fail
when the kernel compiles (the code generator copies such operands first), mismatched
shapes raise ``ValueError``.  No two of them may overlap.  ``beta`` 0 ignores what
``out`` held (NaN included).

This file is kernel source too: a kernel that multiplies includes the text below the
marker line (the compile worker imports no symgrad), so it imports only the standard
library, NumPy, Numba and llvmlite, and every name it defines (``np`` and ``njit``
aside, which kernels import anyway) starts with ``sg_``.

Example (inside compiled code, as kernels call it):
    >>> import numpy as np
    >>> @njit
    ... def product(a, b, out):
    ...     sg_gemm(a, b.T, out, 1.0)
    >>> a, b, out = np.ones((2, 3)), np.arange(6.0).reshape(2, 3), np.ones((2, 2))
    >>> product(a, b, out); out
    array([[ 4., 13.],
           [ 4., 13.]])
"""

# --- kernel text ---
import ctypes as sg_ctypes

import numpy as np
from llvmlite import binding as sg_llvm
from llvmlite import ir as sg_ir
from numba import njit
from numba import types as sg_types
from numba.core import cgutils as sg_cgutils
from numba.core import errors as sg_errors
from numba.extending import intrinsic as sg_intrinsic
from numba.extending import overload as sg_overload

SG_ROW_MAJOR, SG_NO_TRANS, SG_TRANS = 101, 111, 112


def sg_find_cblas() -> str:
    """Register NumPy's bundled ``cblas_?gemm`` (64-bit integers) with LLVM as
    ``symgrad_sgemm`` / ``symgrad_dgemm``; the symbol's name, or ``""`` if absent."""
    try:
        try:
            from numpy._core import _multiarray_umath as sg_umath
        except ImportError:  # NumPy 1.x
            from numpy.core import _multiarray_umath as sg_umath
        library = sg_ctypes.CDLL(sg_umath.__file__)  # its dependencies are searched too
    except (ImportError, OSError):
        return ""
    for name in ("scipy_cblas_{}gemm64_", "cblas_{}gemm64_"):  # OpenBLAS's 64-bit builds
        try:
            found = {kind: getattr(library, name.format(kind)) for kind in "sd"}
        except AttributeError:
            continue
        if not sg_multiplies(found["d"]):
            continue
        for kind, function in found.items():
            address = sg_ctypes.cast(function, sg_ctypes.c_void_p).value
            sg_llvm.add_symbol(f"symgrad_{kind}gemm", address)
        return name.format("?")
    return ""


def sg_multiplies(dgemm) -> bool:
    """Whether ``dgemm`` computes a 2 x 2 product (64-bit integers) as ``cblas_dgemm``."""
    i32, i64, real, pointer = (
        sg_ctypes.c_int32,
        sg_ctypes.c_int64,
        sg_ctypes.c_double,
        sg_ctypes.c_void_p,
    )
    dgemm.restype = None
    dgemm.argtypes = [i32, i32, i32, i64, i64, i64, real, pointer, i64, pointer, i64, real]
    dgemm.argtypes += [pointer, i64]
    a, b = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[5.0, 6.0], [7.0, 8.0]])
    out = np.zeros((2, 2))
    shape = (SG_ROW_MAJOR, SG_NO_TRANS, SG_TRANS, 2, 2, 2, 1.0)
    dgemm(*shape, a.ctypes.data, 2, b.ctypes.data, 2, 0.0, out.ctypes.data, 2)
    return bool(np.array_equal(out, a @ b.T))


SG_CBLAS = sg_find_cblas()  # which one compiled kernels call


@sg_intrinsic
def sg_cblas_gemm(typingctx, a, b, out, beta):
    """``out = a @ b + beta * out`` by NumPy's ``cblas_?gemm``; a ``'F'`` operand (the
    ``.T`` of a C array) is passed transposed, as it lies in memory."""
    arrays = (a, b, out)
    if not all(isinstance(x, sg_types.Array) and x.ndim == 2 for x in arrays):
        raise sg_errors.TypingError(f"sg_gemm multiplies 2-D arrays, got {arrays}")
    if len({x.dtype for x in arrays}) != 1 or out.dtype not in (sg_types.float32, sg_types.float64):
        raise sg_errors.TypingError(f"sg_gemm needs float arrays of one dtype, got {arrays}")
    if a.layout not in "CF" or b.layout not in "CF" or out.layout != "C":
        raise sg_errors.TypingError(
            f"sg_gemm needs C- or F-contiguous operands and a C-contiguous out, got {arrays}"
        )
    sig = sg_types.void(a, b, out, sg_types.float64)

    def codegen(context, builder, signature, args):
        int32, int64, pointer = sg_ir.IntType(32), sg_ir.IntType(64), sg_cgutils.voidptr_t
        real = context.get_value_type(out.dtype)
        one = sg_ir.Constant(int64, 1)
        proxies = [
            sg_cgutils.create_struct_proxy(t)(context, builder, value=v)
            for t, v in zip(arrays, args[:3], strict=True)
        ]
        (m, k), (k_b, n), (m_out, n_out) = (
            sg_cgutils.unpack_tuple(builder, p.shape, 2) for p in proxies
        )
        bad = builder.or_(
            builder.icmp_signed("!=", k, k_b),
            builder.or_(builder.icmp_signed("!=", m, m_out), builder.icmp_signed("!=", n, n_out)),
        )
        with builder.if_then(bad, likely=False):
            message = ("sg_gemm: the shapes of a, b and out do not match",)
            context.call_conv.return_user_exc(builder, ValueError, message)

        def leading(rows, cols, layout):  # a C matrix's row length; an F one's column length
            length = cols if layout == "C" else rows
            return builder.select(builder.icmp_signed(">", length, one), length, one)

        def flag(layout):
            return sg_ir.Constant(int32, SG_NO_TRANS if layout == "C" else SG_TRANS)

        flags = [int32, int32, int32]  # order, transposes; then sizes, operands, scales
        operands = [int64, int64, int64, real, pointer, int64, pointer, int64, real, pointer, int64]
        fnty = sg_ir.FunctionType(sg_ir.VoidType(), [*flags, *operands])
        name = "symgrad_sgemm" if out.dtype == sg_types.float32 else "symgrad_dgemm"
        function = sg_cgutils.get_or_insert_function(builder.module, fnty, name)
        data = [builder.bitcast(p.data, pointer) for p in proxies]
        scale = builder.fptrunc(args[3], real) if out.dtype == sg_types.float32 else args[3]
        head = [sg_ir.Constant(int32, SG_ROW_MAJOR), flag(a.layout), flag(b.layout), m, n, k]
        first = [sg_ir.Constant(real, 1.0), data[0], leading(m, k, a.layout)]
        second = [data[1], leading(k, n, b.layout), scale, data[2], leading(m, n, "C")]
        builder.call(function, [*head, *first, *second])
        return context.get_dummy_value()

    return sig, codegen


@njit
def sg_gemm_dot(a, b, out, beta):
    if beta == 0:
        np.dot(a, b, out)
    else:
        out[:] = np.dot(a, b) + beta * out


def sg_gemm(a, b, out, beta):
    """``out = a @ b + beta * out``; this is NumPy, compiled code calls BLAS (below)."""
    product = np.dot(a, b)
    out[...] = product if beta == 0 else product + beta * out


@sg_overload(sg_gemm)
def sg_gemm_compiled(a, b, out, beta):
    if SG_CBLAS:
        return lambda a, b, out, beta: sg_cblas_gemm(a, b, out, beta)
    return lambda a, b, out, beta: sg_gemm_dot(a, b, out, beta)
