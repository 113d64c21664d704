"""The elementwise ops: one table row each, with NumPy evaluation and SymPy form.

The SymPy form is the op's definition: its derivative, the fused kernel code
and the printed formulas all come from it.  Kinks follow PyTorch: the
derivative of ``relu`` and ``abs`` at 0 is 0, ``maximum``/``minimum`` split the
gradient evenly at ties.  A row's ``api`` says where the front end exposes it:
``"Tensor"`` (a method ``x.exp()``), ``"sg"`` (``sg.exp(x)``) and ``"F"``
(``sg.nn.functional.relu``); operators (``+``, ``<``) are bound to rows by name.
Adding an elementwise op is adding a row (and a row in the tests' op table).

Example:
    >>> OPS["mul"].sympy(arg(0), 3)
    3*_0
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
import sympy

from symgrad.errors import UnsupportedOpError
from symgrad.ir.graph import arg
from symgrad.ir.sympy_functions import (
    binary_cross_entropy,
    expm1,
    isinf,
    log1p,
    power,
    sigmoid,
    std_sqrt,
)

_ = arg  # re-exported for the doctest


@dataclass(frozen=True)
class ElementwiseOp:
    """One elementwise op: its NumPy evaluation, its SymPy definition, where users reach it."""

    name: str
    numpy: Callable[..., np.ndarray]
    sympy: Callable[..., sympy.Expr]
    differentiable: bool = True
    kind: str = "same"  # result dtype: "same" (promoted), "float" (ints become float64), "bool"
    api: tuple[str, ...] = ()  # "Tensor" (method), "sg" (module function), "F" (functional)
    doc: str = ""
    # Refuses operands PyTorch refuses, eagerly and when recorded: (operand dtypes, with
    # None for a Python number; the Python numbers, with None for a tensor) -> None.
    check: Callable[[list, list], None] | None = None


def _stable_sigmoid(x: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(np.zeros((), x.dtype), -x))


def _relu(x):
    return sympy.Piecewise((x, x > 0), (0, True))


def _maximum(a, b):
    return sympy.Piecewise((a, a > b), (b, a < b), ((a + b) / 2, True))


def _minimum(a, b):
    return sympy.Piecewise((a, a < b), (b, a > b), ((a + b) / 2, True))


def _where(cond, a, b):
    return sympy.Piecewise((a, sympy.Ne(cond, 0)), (b, True))


_FAST_POWERS = {
    2: lambda x: x * x,
    3: lambda x: x * x * x,
    -1: lambda x: 1 / x,
    -2: lambda x: 1 / (x * x),
    0.5: np.sqrt,
}


def _check_power(dtypes: list, numbers: list) -> None:
    _, exponent = numbers
    integral_base = dtypes[0] is not None and dtypes[0].kind in "iub"
    if integral_base and isinstance(exponent, int | np.integer) and exponent < 0:
        raise UnsupportedOpError(
            "Integers to negative integer powers are not allowed. "
            "Convert the base to a float tensor first (x.double() ** -1)."
        )


def _power(base, exponent):
    """``np.power``, with the small exponents PyTorch also special-cases done by products."""
    if isinstance(base, np.ndarray) and type(exponent) in (int, float):
        fast = _FAST_POWERS.get(exponent)
        if fast is not None and base.dtype.kind == "f":
            return fast(base)
    return np.power(base, exponent)


def _pow(base, exponent):
    # A constant exponent (x**3, x**0.5) or a positive constant base (2**x) is SymPy's Pow,
    # finite wherever PyTorch's gradient is; otherwise ``power`` has PyTorch's gradients
    # (at x == 0, and for bases 0 or -2 with a tensor exponent).
    if exponent.is_Number or (base.is_Number and base.is_positive):
        return base**exponent
    return power(base, exponent)


def _softplus(x, beta=1, threshold=20):
    # PyTorch's definition: linear above the threshold, log1p(exp(.)) below it.
    bx = beta * x
    return sympy.Piecewise((x, bx > threshold), (log1p(sympy.exp(bx)) / beta, True))


def _np_softplus(x, beta=1, threshold=20):
    bx = x * beta
    return np.where(bx > threshold, x, np.log1p(np.exp(np.minimum(bx, threshold))) / beta)


def _log1pexp(z):
    # log(1 + exp(z)) for any z: exp never overflows on either branch.
    return sympy.Piecewise((z + log1p(sympy.exp(-z)), z > 0), (log1p(sympy.exp(z)), True))


def _np_log1pexp(z):
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def _leaky_relu(x, slope=0.01):
    return sympy.Piecewise((x, x > 0), (slope * x, True))


_SQRT_2_OVER_PI = sympy.sqrt(2 / sympy.pi)


def _gelu(x):
    return x / 2 * (1 + sympy.erf(x / sympy.sqrt(2)))


def _gelu_tanh(x):
    return x / 2 * (1 + sympy.tanh(_SQRT_2_OVER_PI * (x + sympy.Float(0.044715) * x**3)))


@cache
def _erf() -> Callable[[np.ndarray], np.ndarray]:
    from scipy.special import erf  # imported on first use: it adds to import time

    return erf


def _np_gelu(x):
    return x / 2 * (1 + _erf()(x / np.sqrt(np.asarray(2.0, x.dtype))))


def _np_gelu_tanh(x):
    k = np.asarray(np.sqrt(2 / np.pi), x.dtype)
    return x / 2 * (1 + np.tanh(k * (x + np.asarray(0.044715, x.dtype) * x * x * x)))


def _errstate(fn):
    def wrapped(*args):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return fn(*args)

    return wrapped


T, SG, F = "Tensor", "sg", "F"
FLOAT = "float"

_ROWS = [
    ElementwiseOp("add", np.add, lambda a, b: a + b),
    ElementwiseOp("sub", np.subtract, lambda a, b: a - b),
    ElementwiseOp("mul", np.multiply, lambda a, b: a * b),
    ElementwiseOp("div", _errstate(np.true_divide), lambda a, b: a / b, kind=FLOAT),
    ElementwiseOp("pow", _errstate(_power), _pow, check=_check_power),
    ElementwiseOp("neg", np.negative, lambda a: -a),
    ElementwiseOp("exp", _errstate(np.exp), sympy.exp, kind=FLOAT, api=(T, SG)),
    ElementwiseOp("log", _errstate(np.log), sympy.log, kind=FLOAT, api=(T, SG)),
    ElementwiseOp(
        "log10",
        _errstate(np.log10),
        lambda x: sympy.log(x) / sympy.log(10),
        kind=FLOAT,
        api=(T, SG),
    ),
    ElementwiseOp(
        "log2", _errstate(np.log2), lambda x: sympy.log(x) / sympy.log(2), kind=FLOAT, api=(T, SG)
    ),
    ElementwiseOp("sqrt", _errstate(np.sqrt), sympy.sqrt, kind=FLOAT, api=(T, SG)),
    ElementwiseOp("std_sqrt", std_sqrt.numpy_impl, std_sqrt, kind=FLOAT),
    ElementwiseOp("abs", np.abs, sympy.Abs, api=(T, SG), doc="``|x|``; derivative 0 at 0."),
    ElementwiseOp("sin", np.sin, sympy.sin, kind=FLOAT, api=(T, SG)),
    ElementwiseOp("cos", np.cos, sympy.cos, kind=FLOAT, api=(T, SG)),
    ElementwiseOp("tanh", np.tanh, sympy.tanh, kind=FLOAT, api=(T, SG, F)),
    ElementwiseOp(
        "sigmoid",
        _stable_sigmoid,
        sigmoid,
        kind=FLOAT,
        api=(T, SG, F),
        doc="``1 / (1 + exp(-x))``.",
    ),
    ElementwiseOp(
        "relu",
        lambda x: np.maximum(x, 0),
        _relu,
        api=(T, SG, F),
        doc="``max(x, 0)``; derivative 0 at 0.",
    ),
    ElementwiseOp(
        "maximum",
        np.maximum,
        _maximum,
        api=(SG,),
        doc="Elementwise maximum; at ties the gradient is split evenly (as in PyTorch).",
    ),
    ElementwiseOp(
        "minimum",
        np.minimum,
        _minimum,
        api=(SG,),
        doc="Elementwise minimum; at ties the gradient is split evenly (as in PyTorch).",
    ),
    ElementwiseOp(
        "where",
        np.where,
        _where,
        api=(SG,),
        doc="``a`` where ``condition`` is true, else ``b``, with broadcasting:"
        " ``sg.where(x > 0, x, 0.0)``.",
    ),
    ElementwiseOp("clamp_min", np.maximum, lambda x, lo: sympy.Piecewise((lo, x < lo), (x, True))),
    ElementwiseOp("clamp_max", np.minimum, lambda x, hi: sympy.Piecewise((hi, x > hi), (x, True))),
    ElementwiseOp("reciprocal", _errstate(np.reciprocal), lambda x: 1 / x, kind=FLOAT, api=(T, SG)),
    ElementwiseOp("log1p", _errstate(np.log1p), log1p, kind=FLOAT, api=(T, SG)),
    ElementwiseOp("expm1", _errstate(np.expm1), expm1, kind=FLOAT, api=(T, SG)),
    ElementwiseOp("erf", lambda x: _erf()(x), sympy.erf, kind=FLOAT, api=(T, SG)),
    ElementwiseOp("softplus", _errstate(_np_softplus), _softplus, kind=FLOAT),
    ElementwiseOp("log1pexp", _errstate(_np_log1pexp), _log1pexp, kind=FLOAT),
    ElementwiseOp(
        "binary_cross_entropy",
        binary_cross_entropy.numpy_impl,
        binary_cross_entropy,
        kind=FLOAT,
    ),
    ElementwiseOp("leaky_relu", lambda x, slope=0.01: np.where(x > 0, x, x * slope), _leaky_relu),
    ElementwiseOp("gelu", _np_gelu, _gelu, kind=FLOAT),
    ElementwiseOp("gelu_tanh", _np_gelu_tanh, _gelu_tanh, kind=FLOAT),
    ElementwiseOp("silu", lambda x: x * _stable_sigmoid(x), lambda x: x * sigmoid(x), kind=FLOAT),
    ElementwiseOp("sign", np.sign, sympy.sign, differentiable=False, api=(T, SG)),
    ElementwiseOp("lt", np.less, lambda a, b: a < b, differentiable=False, kind="bool"),
    ElementwiseOp("le", np.less_equal, lambda a, b: a <= b, differentiable=False, kind="bool"),
    ElementwiseOp("gt", np.greater, lambda a, b: a > b, differentiable=False, kind="bool"),
    ElementwiseOp("ge", np.greater_equal, lambda a, b: a >= b, differentiable=False, kind="bool"),
    ElementwiseOp("eq", np.equal, sympy.Eq, differentiable=False, kind="bool"),
    ElementwiseOp("isinf", np.isinf, isinf, differentiable=False, kind="bool"),
    ElementwiseOp("ne", np.not_equal, sympy.Ne, differentiable=False, kind="bool"),
]

OPS: dict[str, ElementwiseOp] = {row.name: row for row in _ROWS}


def constant(value: object) -> sympy.Expr:
    """A Python number as a SymPy constant; integral floats become Integers (``2.0`` → ``2``).

    A SymPy expression (a traced size, ``n_0``) stays as it is.
    """
    if isinstance(value, sympy.Expr):
        return value
    if isinstance(value, bool | np.bool_):
        return sympy.Integer(int(value))
    if isinstance(value, int | np.integer):
        return sympy.Integer(int(value))
    number = float(value)
    if number.is_integer() and abs(number) < 2**53:
        return sympy.Integer(int(number))
    return sympy.Float(number)


_TEMPLATES: dict[tuple, sympy.Expr] = {}


def template(op: ElementwiseOp, constants: tuple) -> sympy.Expr:
    """The op's expression over placeholders, with Python-number operands baked in.

    ``constants`` has one entry per operand: ``None`` for a tensor (its
    placeholder is the next ``_i``) or the Python number itself.
    """
    key = (op.name, *constants)  # 2 and 2.0 are the same constant (see ``constant``)
    expr = _TEMPLATES.get(key)
    if expr is None:
        operands, i = [], 0
        for c in constants:
            if c is None:
                operands.append(arg(i))
                i += 1
            else:
                operands.append(constant(c))
        expr = _TEMPLATES[key] = sympy.sympify(op.sympy(*operands))
    return expr
