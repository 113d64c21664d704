"""SymPy functions symgrad needs beyond SymPy's own, with derivatives in terms of themselves.

Each carries ``kernel_code``, the scalar Numba text the kernel printer writes for it
(``{0}``, ``{1}`` are the printed arguments, ``{one}`` the literal 1 in the kernel's float
type), and ``numpy_impl``, the same computation on arrays for the interpreter.
``power``, ``std_sqrt`` and ``binary_cross_entropy`` exist for their derivatives: PyTorch's,
finite where SymPy's form is 0/0 (``x**y*y/x`` at ``x = 0``); ``isinf`` is a test SymPy
would fold to False (its real symbols are finite).

Example:
    >>> import sympy
    >>> x = sympy.Symbol('x', real=True)
    >>> sympy.diff(sigmoid(x), x)
    (1 - sigmoid(x))*sigmoid(x)
"""

from __future__ import annotations

import numpy as np
import sympy


class sigmoid(sympy.Function):
    """The logistic function ``1 / (1 + exp(-x))``; its derivative is ``s * (1 - s)``."""

    is_real = True
    kernel_code = "({one}/({one} + math.exp(-({0}))))"
    numpy_impl = staticmethod(lambda x: 1 / (1 + np.exp(-x)))

    @classmethod
    def eval(cls, x):
        if x.is_Number:
            return 1 / (1 + sympy.exp(-x))
        return None

    def fdiff(self, argindex=1):
        return self * (1 - self)

    def _eval_rewrite_as_exp(self, x, **kwargs):
        return 1 / (1 + sympy.exp(-x))


class log1p(sympy.Function):
    """``log(1 + x)``, accurate for small ``x``."""

    is_real = True
    kernel_code = "math.log1p({0})"
    numpy_impl = staticmethod(np.log1p)

    @classmethod
    def eval(cls, x):
        if x.is_Number:
            return sympy.log(1 + x)
        return None

    def fdiff(self, argindex=1):
        return 1 / (1 + self.args[0])


class expm1(sympy.Function):
    """``exp(x) - 1``, accurate for small ``x``; its derivative is ``expm1(x) + 1``."""

    is_real = True
    kernel_code = "math.expm1({0})"
    numpy_impl = staticmethod(np.expm1)

    @classmethod
    def eval(cls, x):
        if x.is_Number:
            return sympy.exp(x) - 1
        return None

    def fdiff(self, argindex=1):
        return self + 1


def _errstate(fn):
    def wrapped(*args):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return fn(*args)

    return wrapped


def _log(x: sympy.Expr) -> sympy.Expr:
    """``log(x)``; a constant's as a float, so ``log(0)`` is ``-inf`` (SymPy: ``zoo``)."""
    if x.is_Number:
        with np.errstate(divide="ignore", invalid="ignore"):
            return sympy.Float(np.log(float(x)))
    return sympy.log(x)


class power(sympy.Function):
    """``x**y`` with a tensor exponent; its derivatives are PyTorch's.

    ``y * x**(y - 1)`` (0 where ``y == 0``) and ``x**y * log(x)`` (0 where ``x == 0`` and
    ``y >= 0``), finite at ``x = 0`` where SymPy's ``x**y*y/x`` is not.  A constant
    exponent (``x**3``) stays SymPy's ``Pow``.
    """

    kernel_code = "({0})**({1})"
    numpy_impl = staticmethod(_errstate(np.power))

    @classmethod
    def eval(cls, x, y):
        if x.is_Number and y.is_Number:
            return x**y
        return None

    def fdiff(self, argindex=1):
        x, y = self.args
        if argindex == 1:
            return sympy.Piecewise((0, sympy.Eq(y, 0)), (y * power(x, y - 1), True))
        # Nested rather than one ``Eq(x, 0) & (y >= 0)``: NumPy's printing of ``And`` packs
        # arrays of different shapes into one tuple, which fails under broadcasting.
        at_zero = sympy.Piecewise((0, y >= 0), (self * _log(x), True))
        return sympy.Piecewise((at_zero, sympy.Eq(x, 0)), (self * _log(x), True))

    def _sympystr(self, printer):
        return printer._print(sympy.Pow(*self.args, evaluate=False))

    def _latex(self, printer):
        return printer._print(sympy.Pow(*self.args, evaluate=False))


class std_sqrt(sympy.Function):
    """``sqrt(v)`` as ``std`` takes it: the derivative is 0 where the result is 0 (PyTorch)."""

    kernel_code = "math.sqrt({0})"
    numpy_impl = staticmethod(_errstate(np.sqrt))

    @classmethod
    def eval(cls, x):
        if x.is_Number:
            return sympy.sqrt(x)
        return None

    def fdiff(self, argindex=1):
        return sympy.Piecewise((0, sympy.Eq(self, 0)), (1 / (2 * self), True))

    def _sympystr(self, printer):
        return printer._print(sympy.sqrt(self.args[0], evaluate=False))


class isinf(sympy.Function):
    """1 where ``x`` is +-inf, else 0 (SymPy's symbols are finite: ``Eq(x, oo)`` is False)."""

    kernel_code = "math.isinf({0})"
    numpy_impl = staticmethod(np.isinf)

    @classmethod
    def eval(cls, x):
        if x.is_Number:
            return sympy.Integer(int(x.is_infinite))
        return None


#: PyTorch's floor under ``p * (1 - p)`` in the gradient of binary cross entropy: its
#: ``EPSILON`` is a float ``1e-12``.
BCE_EPSILON = float(np.float32(1e-12))


def _np_binary_cross_entropy(p, t):
    log_p = np.maximum(np.log(p), -100)
    log_q = np.maximum(np.log1p(-p), -100)
    return (t - 1) * log_q - t * log_p


class binary_cross_entropy(sympy.Function):
    """``-(t*log(p) + (1 - t)*log(1 - p))`` with each log clamped at -100, as PyTorch.

    Its derivatives are PyTorch's: ``(p - t) / max(p*(1 - p), 1e-12)`` for ``p`` (finite at
    0 and 1) and ``-logit(p)`` for ``t``.
    """

    kernel_code = (
        "((({1}) - {one})*max(math.log1p(-({0})), -100*{one})"
        " - ({1})*max(math.log({0}), -100*{one}))"
    )
    numpy_impl = staticmethod(_errstate(_np_binary_cross_entropy))

    def fdiff(self, argindex=1):
        p, t = self.args
        if argindex == 1:
            q = p * (1 - p)
            return (p - t) / sympy.Piecewise((BCE_EPSILON, q < BCE_EPSILON), (q, True))
        return -sympy.log(p / (1 - p))


#: Name -> array implementation, for evaluating expressions that use these functions.
NUMPY_IMPLEMENTATIONS = {
    f.__name__: f.numpy_impl
    for f in (sigmoid, log1p, expm1, power, std_sqrt, binary_cross_entropy, isinf)
}
