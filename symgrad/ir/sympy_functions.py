"""SymPy functions symgrad needs beyond SymPy's own, with derivatives in terms of themselves.

Each carries ``kernel_code``, the scalar Numba text the kernel printer writes for it
(``{0}`` is the printed argument, ``{one}`` the literal 1 in the kernel's float type),
and ``numpy_impl``, the same computation on arrays for the interpreter.

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


#: Name -> array implementation, for evaluating expressions that use these functions.
NUMPY_IMPLEMENTATIONS = {f.__name__: f.numpy_impl for f in (sigmoid, log1p, expm1)}
