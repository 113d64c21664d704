"""A SymPy printer that writes scalar Numba code.

Integer powers become multiplications, square roots become ``math.sqrt``, and
every literal has the kernel's float type, so a float32 kernel never computes
in float64 by accident.

Example:
    >>> import sympy
    >>> a, b = sympy.symbols('a b', real=True)
    >>> NumbaPrinter().doprint(3*a**3 - b**2)
    '3.0*(a*a*a) - (b*b)'
    >>> NumbaPrinter('float32').doprint(a / 2)
    '(np.float32(0.5))*a'
"""

from __future__ import annotations

from pathlib import Path

import sympy
from sympy.printing.precedence import precedence
from sympy.printing.pycode import PythonCodePrinter

MAX_UNROLLED_POWER = 8

# Scalar functions a kernel module defines when its code calls them (name -> source).
# ``sg_erf32``: erf of a float32, a rational approximation on [-4, 4] (erf is +-1 in
# float32 beyond), the one Eigen vectorizes: at most 4.5e-7 from erf, a few float32
# ulps, where a call of libm's erf is scalar and 25x slower (GELU's cost in a
# transformer step).  NaN stays NaN.
HELPERS = {
    "sg_erf32": """@njit(inline="always", error_model="numpy")
def sg_erf32(a):
    x = min(max(a, np.float32(-4.0)), np.float32(4.0))
    x2 = x * x
    p = x2 * np.float32(-2.72614225801306e-10) + np.float32(2.77068142495902e-08)
    p = x2 * p + np.float32(-2.10102402082508e-06)
    p = x2 * p + np.float32(-5.69250639462346e-05)
    p = x2 * p + np.float32(-7.34990630326855e-04)
    p = x2 * p + np.float32(-2.95459980854025e-03)
    p = x2 * p + np.float32(-1.60960333262415e-02)
    q = x2 * np.float32(-1.45660718464996e-05) + np.float32(-2.13374055278905e-04)
    q = x2 * q + np.float32(-1.68282697438203e-03)
    q = x2 * q + np.float32(-7.37332916720468e-03)
    q = x2 * q + np.float32(-1.42647390514189e-02)
    return x * p / q
""",
    # ``sg_gemm``: a matrix product by NumPy's BLAS (symgrad/compiler/blas.py, the text
    # below its marker line).
    "sg_gemm": (Path(__file__).parents[1] / "blas.py")
    .read_text(encoding="utf-8")
    .split("# --- kernel text ---\n", 1)[1],
    # ``sg_conv_rows``, ``sg_conv_dw``: convolution micro-kernels
    # (symgrad/compiler/conv_tiles.py, below its marker line).
    "sg_conv_tiles": (Path(__file__).parents[1] / "conv_tiles.py")
    .read_text(encoding="utf-8")
    .split("# --- kernel text ---\n", 1)[1],
}


class NumbaPrinter(PythonCodePrinter):
    """Prints scalar expressions for ``@njit`` kernels of one value type.

    ``float_type`` is ``float64``, ``float32`` (literals wrapped in ``np.float32``)
    or ``int64`` (integral literals stay ints).
    """

    def __init__(self, float_type: str = "float64"):
        super().__init__({"fully_qualified_modules": True, "standard": "python3"})
        self.float_type = float_type
        self.helpers: set[str] = set()  # names of :data:`HELPERS` the printed code calls

    def literal(self, value: float) -> str:
        if self.float_type == "int64" and float(value).is_integer():
            return str(int(value))
        text = repr(float(value))
        if text in ("inf", "-inf", "nan"):
            text = f"math.{text.lstrip('-')}" if text != "-inf" else "-math.inf"
        return text if self.float_type != "float32" else f"np.float32({text})"

    def _print(self, expr, **kwargs) -> str:
        # Constant subexpressions (sqrt(2)/sqrt(pi), ...) become one literal of the kernel type.
        if isinstance(expr, sympy.Expr) and not expr.is_Atom and expr.is_number:
            try:
                return self.literal(float(expr))
            except TypeError:
                pass
        return super()._print(expr, **kwargs)

    def _print_NumberSymbol(self, expr) -> str:
        return self.literal(float(expr))

    _print_Pi = _print_Exp1 = _print_NumberSymbol

    def _print_Integer(self, expr) -> str:
        return self.literal(int(expr))

    _print_Zero = _print_One = _print_NegativeOne = _print_Integer

    def _print_Rational(self, expr) -> str:
        return self.literal(expr.p / expr.q)

    _print_Half = _print_Rational

    def _print_Float(self, expr) -> str:
        return self.literal(float(expr))

    def _print_Infinity(self, expr) -> str:
        return self.literal(float("inf"))

    def _print_NegativeInfinity(self, expr) -> str:
        return self.literal(float("-inf"))

    def _print_NaN(self, expr) -> str:
        return self.literal(float("nan"))

    def _print_Pow(self, expr, rational=False) -> str:
        base, exp = expr.base, expr.exp
        base_text = self.parenthesize(base, precedence(expr))
        if exp.is_Integer and 0 < abs(int(exp)) <= MAX_UNROLLED_POWER:
            product = "(" + "*".join([base_text] * abs(int(exp))) + ")"
            return product if exp > 0 else f"{self.literal(1)}/{product}"
        if exp == sympy.S.Half:
            return f"math.sqrt({self._print(base)})"
        if exp == -sympy.S.Half:
            return f"{self.literal(1)}/math.sqrt({self._print(base)})"
        return f"{base_text}**{self.parenthesize(exp, precedence(expr))}"

    def _print_Function(self, expr) -> str:
        # symgrad's own SymPy functions (sigmoid, log1p, ...) say how they are written.
        code = getattr(type(expr), "kernel_code", None)
        if code is None:
            return super()._print_Function(expr)
        return code.format(*(self._print(a) for a in expr.args), one=self.literal(1))

    def _print_erf(self, expr) -> str:
        if self.float_type != "float32":
            return f"math.erf({self._print(expr.args[0])})"
        self.helpers.add("sg_erf32")
        return f"sg_erf32({self._print(expr.args[0])})"

    def _print_sign(self, expr) -> str:
        x = self._print(expr.args[0])
        zero, one = self.literal(0), self.literal(1)
        return f"({zero} if {x} == 0 else math.copysign({one}, {x}))"
