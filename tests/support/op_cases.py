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


# --- issue: tensor ops for real models ------------------------------------------------------
def _np_softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _np_log_softmax(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


_np_erf = np.vectorize(__import__("math").erf)


def _np_gelu(x):
    return x / 2 * (1 + _np_erf(x / np.sqrt(2)))


def _np_gelu_tanh(x):
    return x / 2 * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))


def _np_softplus(x, beta=1.0, threshold=20.0):
    return np.where(beta * x > threshold, x, np.log1p(np.exp(beta * x)) / beta)


def _F(m):
    return m.nn.functional


def _np_max_pool(x, kernel, stride, padding):
    """Max pooling of the last ``len(kernel)`` dims with ``-inf`` padding (floor mode)."""
    d = len(kernel)
    x = np.pad(x, [(0, 0)] * (x.ndim - d) + [(p, p) for p in padding], constant_values=-np.inf)
    win = np.lib.stride_tricks.sliding_window_view(x, kernel, axis=tuple(range(-d, 0)))
    win = win[(..., *(slice(None, None, s) for s in stride), *(slice(None),) * d)]
    return win.max(axis=tuple(range(-d, 0)))


LABELS = [2, 0, 2, 1]  # repeated class 2: gradients must accumulate


def _np_cross_entropy(x, labels=LABELS):
    return -_np_log_softmax(x, 1)[np.arange(len(labels)), labels].mean()


MATMUL: tuple[Shapes, ...] = (
    ((3, 4), (4, 2)),
    ((4,), (4,)),
    ((3, 4), (4,)),
    ((4,), (4, 2)),
    ((2, 3, 4), (4, 5)),
    ((2, 1, 3, 4), (5, 4, 2)),
)
MATRIX: tuple[Shapes, ...] = (((3, 4),), ((2, 3, 4),))

CASES += [
    Case("matmul", lambda m, a, b: a @ b, np.matmul, MATMUL),
    Case("matmul_fn", lambda m, a, b: m.matmul(a, b.T), lambda a, b: a @ b.T, (((3, 4), (2, 4)),)),
    Case(
        "mlp_layer",
        lambda m, x, w, b: m.relu(x @ w.T + b),
        lambda x, w, b: np.maximum(x @ w.T + b, 0),
        (((5, 4), (3, 4), (3,)),),
    ),
    Case("max_all", lambda m, a: a.max(), np.max, REDUCE),
    Case("min_all", lambda m, a: a.min(), np.min, REDUCE),
    Case("amax_dim", lambda m, a: m.amax(a, dim=-1), lambda a: a.max(axis=-1), REDUCE),
    Case(
        "amin_keepdim",
        lambda m, a: a.amin(dim=0, keepdim=True),
        lambda a: a.min(axis=0, keepdims=True),
        REDUCE,
    ),
    Case("max_dim_values", lambda m, a: a.max(dim=-1).values, lambda a: a.max(axis=-1), REDUCE),
    Case(
        "min_dim_keepdim",
        lambda m, a: m.min(a, dim=0, keepdim=True)[0],
        lambda a: a.min(axis=0, keepdims=True),
        REDUCE,
    ),
    Case(
        "logsumexp",
        lambda m, a: m.logsumexp(a, dim=-1),
        lambda a: np.log(np.exp(a).sum(axis=-1)),
        REDUCE,
    ),
    Case(
        "logsumexp_keepdim",
        lambda m, a: a.logsumexp(dim=(0, 1), keepdim=True),
        lambda a: np.log(np.exp(a).sum(axis=(0, 1), keepdims=True)),
        REDUCE_3D,
    ),
    Case("var", lambda m, a: a.var(), lambda a: a.var(ddof=1), REDUCE),
    Case(
        "var_biased_dim",
        lambda m, a: m.var(a, dim=-1, unbiased=False),
        lambda a: a.var(axis=-1),
        REDUCE,
    ),
    Case(
        "std_correction",
        lambda m, a: a.std(dim=0, correction=0, keepdim=True),
        lambda a: a.std(axis=0, keepdims=True),
        REDUCE,
    ),
    Case("reshape", lambda m, a: a.reshape(3, -1) * 2, lambda a: a.reshape(3, -1) * 2, MATRIX),
    Case("view_flat", lambda m, a: a.view(-1) + 1, lambda a: a.reshape(-1) + 1, MATRIX),
    Case(
        "flatten", lambda m, a: a.flatten(1) ** 2, lambda a: a.reshape(a.shape[0], -1) ** 2, MATRIX
    ),
    Case(
        "transpose",
        lambda m, a: a.transpose(0, -1) * 3,
        lambda a: np.swapaxes(a, 0, -1) * 3,
        MATRIX,
    ),
    Case(
        "permute",
        lambda m, a: m.exp(a.permute(2, 0, 1)),
        lambda a: np.exp(a.transpose(2, 0, 1)),
        REDUCE_3D,
    ),
    Case("T", lambda m, a: a.T @ a, lambda a: a.T @ a, (((3, 4),),)),
    Case(
        "squeeze",
        lambda m, a: a.squeeze() * 2,
        lambda a: a.squeeze() * 2,
        (((2, 1, 3),), ((1, 1),)),
    ),
    Case(
        "unsqueeze",
        lambda m, a: a.unsqueeze(1) * a.unsqueeze(-1),
        lambda a: a[:, None] * a[..., None],
        (((3,),), ((2, 3),)),
    ),
    Case(
        "expand",
        lambda m, a: a.expand(2, -1, 3) ** 2,
        lambda a: np.broadcast_to(a, (2, a.shape[0], 3)) ** 2,
        (((4, 1),),),
    ),
    Case(
        "broadcast_to",
        lambda m, a: m.broadcast_to(a, (3, 2, 4)).sin(),
        lambda a: np.sin(np.broadcast_to(a, (3, 2, 4))),
        (((2, 1),), ((4,),)),
    ),
    Case(
        "cat",
        lambda m, a, b: m.cat([a, b * 2, a], dim=1),
        lambda a, b: np.concatenate([a, b * 2, a], axis=1),
        (((2, 3), (2, 1)),),
    ),
    Case(
        "stack",
        lambda m, a, b: m.stack([a, b], dim=-1),
        lambda a, b: np.stack([a, b], axis=-1),
        (((2, 3), (2, 3)), ((4,), (4,))),
    ),
    Case("index_int", lambda m, a: a[1] * 2, lambda a: a[1] * 2, MATRIX),
    Case(
        "index_slices",
        lambda m, a: a[1:, 1::2] * 3,
        lambda a: a[1:, 1::2] * 3,
        MATRIX,
    ),
    Case(
        "slice_shifted_products",  # three slices of one length: one summed gradient
        lambda m, a: a[2:] * a[:-2] - a[1:-1] ** 2,
        lambda a: a[2:] * a[:-2] - a[1:-1] ** 2,
        (((6,),), ((5, 3),)),
    ),
    Case(
        "slice_rosenbrock",
        lambda m, a: (100 * (a[1:] - a[:-1] ** 2) ** 2 + (1 - a[:-1]) ** 2).sum(),
        lambda a: (100 * (a[1:] - a[:-1] ** 2) ** 2 + (1 - a[:-1]) ** 2).sum(),
        (((7,),), ((4, 3),)),
    ),
    Case(
        "slice_steps_negative_bounds",
        lambda m, a: a[-3:-1, ::2] * 3 + a[:2, 1::2],
        lambda a: a[-3:-1, ::2] * 3 + a[:2, 1::2],
        (((4, 4),), ((3, 4, 2),)),
    ),
    Case(
        "slice_of_slice",
        lambda m, a: a[1:][::2][:, 1:-1] * a[0, 1:-1],
        lambda a: a[1:][::2][:, 1:-1] * a[0, 1:-1],
        (((5, 4),), ((4, 5, 2),)),
    ),
    Case(
        "slice_empty",
        lambda m, a: a[3:1] * 2 + a[:, 9:].sum(),
        lambda a: a[3:1] * 2 + a[:, 9:].sum(),
        (((4, 3),),),
    ),
    Case(
        "slice_int_none",
        lambda m, a: a[:, -1, None] * a[1] + a[None, ..., 0, None],
        lambda a: a[:, -1, None] * a[1] + a[None, ..., 0, None],
        (((3, 3),), ((3, 3, 2),)),
    ),
    Case(
        "index_none_ellipsis",
        lambda m, a: a[None, ..., -1] + 1,
        lambda a: a[None, ..., -1] + 1,
        MATRIX,
    ),
    Case(
        "index_arrays",
        lambda m, a: a[m.tensor([0, 2, 2, -1]), m.tensor([1, 0, 0, 3])] * 2,
        lambda a: a[np.array([0, 2, 2, -1]), np.array([1, 0, 0, 3])] * 2,
        (((3, 4),),),
    ),
    Case(
        "index_array_and_slice",
        lambda m, a: a[:, m.tensor([[3, 0], [3, 3]])],
        lambda a: a[:, np.array([[3, 0], [3, 3]])],
        (((3, 4),),),
    ),
    Case(
        "index_split_arrays",
        lambda m, a: a[m.tensor([1, 0]), :, m.tensor([2, 2])],
        lambda a: a[np.array([1, 0]), :, np.array([2, 2])],
        (((3, 2, 4),),),
    ),
    Case(
        "max_pool1d_overlapping",
        lambda m, x: _F(m).max_pool1d(x, 3, stride=2, padding=1),
        lambda x: _np_max_pool(x, (3,), (2,), (1,)),
        (((2, 3, 9),),),
    ),
    Case(
        "max_pool2d",
        lambda m, x: _F(m).max_pool2d(x, (3, 2), stride=(1, 2), padding=(1, 0)),
        lambda x: _np_max_pool(x, (3, 2), (1, 2), (1, 0)),
        (((2, 2, 5, 6),), ((3, 4, 4),)),  # batched, unbatched
    ),
    Case("clamp", lambda m, a: a.clamp(-0.5, 0.7), lambda a: np.clip(a, -0.5, 0.7), UNARY),
    Case("clamp_min", lambda m, a: m.clamp(a, min=0.1), lambda a: np.maximum(a, 0.1), UNARY),
    Case("reciprocal", lambda m, a: m.reciprocal(a), lambda a: 1 / a, UNARY, ("away",)),
    Case("log1p", lambda m, a: m.log1p(a), np.log1p, UNARY, ("pos",)),
    Case("expm1", lambda m, a: m.expm1(a), np.expm1, UNARY),
    Case("erf", lambda m, a: m.erf(a), lambda a: _scipy_erf(a), UNARY),
    Case("softplus", lambda m, a: _F(m).softplus(a), _np_softplus, UNARY),
    Case(
        "softplus_beta",
        lambda m, a: _F(m).softplus(a * 8, beta=2.0, threshold=5.0),
        lambda a: _np_softplus(a * 8, 2.0, 5.0),
        UNARY,
    ),
    Case(
        "leaky_relu",
        lambda m, a: _F(m).leaky_relu(a, 0.2),
        lambda a: np.where(a > 0, a, 0.2 * a),
        UNARY,
        ("away",),
    ),
    Case("gelu", lambda m, a: _F(m).gelu(a), _np_gelu, UNARY),
    Case("gelu_tanh", lambda m, a: _F(m).gelu(a, approximate="tanh"), _np_gelu_tanh, UNARY),
    Case("silu", lambda m, a: _F(m).silu(a), lambda a: a * _np_sigmoid(a), UNARY),
    Case("sign_times", lambda m, a: m.sign(a) * a, lambda a: np.sign(a) * a, UNARY, ("away",)),
    Case("softmax", lambda m, a: _F(m).softmax(a, dim=-1), lambda a: _np_softmax(a, -1), REDUCE),
    Case(
        "log_softmax",
        lambda m, a: _F(m).log_softmax(a, dim=0),
        lambda a: _np_log_softmax(a, 0),
        REDUCE,
    ),
    Case(
        "mse_loss",
        lambda m, a, b: _F(m).mse_loss(a, b),
        lambda a, b: ((a - b) ** 2).mean(),
        (((3,), (3,)), ((2, 3), (2, 3))),
    ),
    Case(
        "l1_loss_sum",
        lambda m, a, b: _F(m).l1_loss(a, b, reduction="sum"),
        lambda a, b: np.abs(a - b).sum(),
        (((2, 3), (2, 3)),),
        ("away", "any"),
    ),
    Case(
        "cross_entropy",
        lambda m, x: _F(m).cross_entropy(x, m.tensor(LABELS)),
        _np_cross_entropy,
        (((4, 3),),),
    ),
    Case(
        "cross_entropy_probs",
        lambda m, x, p: _F(m).cross_entropy(x, m.softmax(p, dim=1), reduction="sum"),
        lambda x, p: -(_np_log_softmax(x, 1) * _np_softmax(p, 1)).sum(),
        (((4, 3), (4, 3)),),
    ),
    Case(
        "nll_loss_weighted",
        lambda m, x: _F(m).nll_loss(
            x,
            m.tensor([2, 0, -100, 1]),
            weight=m.tensor([0.5, 2.0, 1.5], dtype=x.dtype),
            ignore_index=-100,
        ),
        lambda x: -((x[[0, 1, 3], [2, 0, 1]] * np.array([1.5, 0.5, 2.0])).sum() / 4.0),
        (((4, 3),),),
    ),
    Case(
        "bce",
        lambda m, p, t: _F(m).binary_cross_entropy(m.sigmoid(p), m.sigmoid(t)),
        lambda p, t: (
            -(
                _np_sigmoid(t) * np.log(_np_sigmoid(p))
                + (1 - _np_sigmoid(t)) * np.log(1 - _np_sigmoid(p))
            ).mean()
        ),
        (((2, 3), (2, 3)),),
    ),
    Case(
        "bce_with_logits",
        lambda m, x, t: _F(m).binary_cross_entropy_with_logits(
            x, m.sigmoid(t), pos_weight=m.tensor([1.0, 2.0, 0.5], dtype=x.dtype)
        ),
        lambda x, t: (
            (1 - _np_sigmoid(t)) * x
            + (1 + np.array([0.0, 1.0, -0.5]) * _np_sigmoid(t)) * np.log1p(np.exp(-x))
        ).mean(),
        (((2, 3), (2, 3)),),
    ),
]


def _scipy_erf(a):
    from scipy.special import erf

    return erf(a)
