"""The op table for tests: one line per op gets every check in tests/ops/test_op_table.py.

Each case is written once as ``fn(m, *xs)`` where ``m`` is either ``symgrad`` or
``torch`` (their APIs agree), with an independent NumPy reference for values and
finite differences.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Shapes = tuple[tuple[int, ...], ...]

UNARY: tuple[Shapes, ...] = (((),), ((5,),), ((2, 1, 3),))
BINARY: tuple[Shapes, ...] = (((3,), (3,)), ((2, 3), (3,)), ((2, 1), (1, 4)), ((), (2, 3)))
REDUCE: tuple[Shapes, ...] = (((4,),), ((2, 3),), ((2, 1, 3),))
REDUCE_3D: tuple[Shapes, ...] = (((2, 1, 3),), ((3, 2, 2),))


def _np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


# Input domains: how to turn standard-normal samples into valid, smooth inputs.
DOMAINS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "any": lambda x: x,
    "pos": lambda x: np.abs(x) + 0.5,
    "away": lambda x: np.where(x >= 0, x + 0.2, x - 0.2),  # away from kinks and zero
}


@dataclass(frozen=True)
class Case:
    name: str
    fn: Callable  # fn(m, *inputs) with m = symgrad or torch
    ref: Callable  # NumPy reference on arrays
    shapes: tuple[Shapes, ...]
    domains: tuple[str, ...] = ()

    def inputs(self, shapes: Shapes, dtype, seed: int = 0) -> list[np.ndarray]:
        rng = np.random.default_rng(seed)
        domains = self.domains or ("any",) * len(shapes)
        return [
            np.asarray(DOMAINS[d](rng.standard_normal(s))).astype(dtype)
            for s, d in zip(shapes, domains, strict=True)
        ]


CASES = [
    Case("add", lambda m, a, b: a + b, np.add, BINARY),
    Case("sub", lambda m, a, b: a - b, np.subtract, BINARY),
    Case("mul", lambda m, a, b: a * b, np.multiply, BINARY),
    Case("div", lambda m, a, b: a / b, np.divide, BINARY, ("any", "away")),
    Case("pow_tensor", lambda m, a, b: a**b, np.power, BINARY, ("pos", "any")),
    Case("scalar_add", lambda m, a: 2.5 + a, lambda a: 2.5 + a, UNARY),
    Case("scalar_rsub", lambda m, a: 3 - a, lambda a: 3 - a, UNARY),
    Case("scalar_mul", lambda m, a: a * 0.5, lambda a: a * 0.5, UNARY),
    Case("scalar_rdiv", lambda m, a: 2 / a, lambda a: 2 / a, UNARY, ("away",)),
    Case("scalar_div", lambda m, a: a / 4, lambda a: a / 4, UNARY),
    Case("pow_int", lambda m, a: a**3, lambda a: a**3, UNARY),
    Case("pow_neg_int", lambda m, a: a**-2, lambda a: a**-2.0, UNARY, ("away",)),
    Case("pow_half", lambda m, a: a**0.5, np.sqrt, UNARY, ("pos",)),
    Case("pow_float", lambda m, a: a**2.5, lambda a: a**2.5, UNARY, ("pos",)),
    Case("rpow", lambda m, a: 2**a, lambda a: 2.0**a, UNARY),
    Case("neg", lambda m, a: -a, np.negative, UNARY),
    Case("exp", lambda m, a: m.exp(a), np.exp, UNARY),
    Case("log", lambda m, a: m.log(a), np.log, UNARY, ("pos",)),
    Case("sqrt", lambda m, a: m.sqrt(a), np.sqrt, UNARY, ("pos",)),
    Case("abs", lambda m, a: m.abs(a), np.abs, UNARY, ("away",)),
    Case("sin", lambda m, a: m.sin(a), np.sin, UNARY),
    Case("cos", lambda m, a: m.cos(a), np.cos, UNARY),
    Case("tanh", lambda m, a: m.tanh(a), np.tanh, UNARY),
    Case("sigmoid", lambda m, a: m.sigmoid(a), _np_sigmoid, UNARY),
    Case("relu", lambda m, a: m.relu(a), lambda a: np.maximum(a, 0), UNARY, ("away",)),
    Case("maximum", lambda m, a, b: m.maximum(a, b), np.maximum, BINARY),
    Case("minimum", lambda m, a, b: m.minimum(a, b), np.minimum, BINARY),
    Case(
        "where",
        lambda m, a, b: m.where(a > 0, a * b, b),
        lambda a, b: np.where(a > 0, a * b, b),
        BINARY,
        ("away", "any"),
    ),
    Case("sum_all", lambda m, a: a.sum(), np.sum, REDUCE),
    Case("sum_last", lambda m, a: a.sum(dim=-1), lambda a: a.sum(axis=-1), REDUCE),
    Case(
        "sum_keepdim",
        lambda m, a: a.sum(dim=0, keepdim=True),
        lambda a: a.sum(axis=0, keepdims=True),
        REDUCE,
    ),
    Case("sum_tuple", lambda m, a: m.sum(a, dim=(0, 2)), lambda a: a.sum(axis=(0, 2)), REDUCE_3D),
    Case("mean_all", lambda m, a: a.mean(), np.mean, REDUCE),
    Case(
        "mean_keepdim",
        lambda m, a: m.mean(a, dim=-1, keepdim=True),
        lambda a: a.mean(axis=-1, keepdims=True),
        REDUCE,
    ),
    # Compositions: fusion, reuse of one value twice, reductions feeding elementwise work.
    Case("seed", lambda m, a, b: 3 * a**3 - b**2, lambda a, b: 3 * a**3 - b**2, BINARY),
    Case(
        "tanh_affine",
        lambda m, x, w: m.tanh(w * x + 1),
        lambda x, w: np.tanh(w * x + 1),
        BINARY,
    ),
    Case(
        "used_twice",
        lambda m, a, b: m.sigmoid(a) * b + m.exp(-a * b) * m.sigmoid(a),
        lambda a, b: _np_sigmoid(a) * b + np.exp(-a * b) * _np_sigmoid(a),
        BINARY,
    ),
    Case(
        "normalize",
        lambda m, a: a / m.sqrt((a * a).sum(dim=-1, keepdim=True)),
        lambda a: a / np.sqrt((a * a).sum(axis=-1, keepdims=True)),
        REDUCE,
    ),
    Case(
        "centered",
        lambda m, a: (a - a.mean()) ** 2,
        lambda a: (a - a.mean()) ** 2,
        REDUCE,
    ),
]
