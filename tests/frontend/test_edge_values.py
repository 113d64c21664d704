"""Edge values where PyTorch gives a number (or an error): symgrad gives the same.

Each case is checked against PyTorch for value and gradient (random upstream) in three
ways: eager ``backward()``, compiled kernels (``tier="sync"``) and the interpreter
(``tier="interpret"``).  nan and inf must match exactly (``assert_allclose`` compares them
as equal when both sides have them at the same place, with the same sign).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import symgrad as sg
import symgrad.functional as F
from symgrad.errors import UnsupportedOpError

torch.set_default_dtype(torch.float64)

MODES = ("eager", "sync", "interpret")
TOL = {
    np.float64: {"rtol": 1e-10, "atol": 1e-12},
    np.float32: {"rtol": 1e-5, "atol": 1e-6},
}


def _differentiable(arrays) -> tuple[int, ...]:
    return tuple(i for i, a in enumerate(arrays) if a.dtype.kind == "f")


def _torch(fn, arrays, upstream):
    inputs = [torch.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    out = fn(torch, *inputs)
    out.backward(torch.tensor(upstream))
    return out.detach().numpy(), [inputs[i].grad.numpy() for i in _differentiable(arrays)]


def _symgrad(fn, arrays, upstream, mode):
    positions = _differentiable(arrays)
    if mode == "eager":
        inputs = [sg.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
        out = fn(sg, *inputs)
        out.backward(gradient=sg.tensor(upstream))
        return out.numpy(), [inputs[i].grad.numpy() for i in positions]
    value = sg.compile(lambda *xs: fn(sg, *xs), tier=mode)(*arrays)
    weights = sg.tensor(upstream)
    _, grads = sg.value_and_grad(
        lambda *xs: (fn(sg, *xs) * weights).sum(), argnums=positions, tier=mode
    )(*arrays)
    return value.numpy(), [g.numpy() for g in grads]


def check(fn, arrays, mode, dtype=np.float64):
    """``fn(m, *inputs)`` (``m`` is ``torch`` or ``sg``): value and gradients as PyTorch's."""
    arrays = [a.astype(dtype) if a.dtype.kind == "f" else a for a in arrays]
    shape = tuple(fn(torch, *[torch.tensor(a) for a in arrays]).shape)
    upstream = np.random.default_rng(1).uniform(0.5, 1.5, shape).astype(dtype)
    t_value, t_grads = _torch(fn, arrays, upstream)
    value, grads = _symgrad(fn, arrays, upstream, mode)
    tol = TOL[dtype]
    assert value.dtype == dtype
    np.testing.assert_allclose(value, t_value, **tol)
    for ours, theirs in zip(grads, t_grads, strict=True):
        assert ours.dtype == dtype
        np.testing.assert_allclose(ours, theirs, **tol)


# --- 1. x**y with a tensor exponent -----------------------------------------------------
# PyTorch: d/dx = y * x**(y - 1), 0 where y == 0; d/dy = x**y * log(x), 0 where x == 0 and
# y >= 0.  At x = 0, y = 2: d/dx = 0 (SymPy's x**y*y/x gave nan), d/dy = 0.
BASES = np.array([0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 2.0, -2.0, -2.0, 3.0])
EXPONENTS = np.array([2.0, 0.0, 0.5, -1.0, -0.5, 2.0, 0.5, 3.0, 0.5, -2.0])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("fn", "arrays"),
    [
        pytest.param(lambda m, x, y: x**y, [BASES, EXPONENTS], id="tensor-tensor"),
        pytest.param(lambda m, y: 0.0**y, [EXPONENTS], id="zero-base"),
        pytest.param(lambda m, y: (-2.0) ** y, [EXPONENTS], id="negative-base"),
        pytest.param(lambda m, x, y: (x * x + 1) ** (y * 2), [BASES, EXPONENTS], id="fused"),
    ],
)
def test_pow_with_tensor_exponent_has_torch_gradient_at_zero(fn, arrays, mode, dtype):
    check(fn, arrays, mode, dtype)


@pytest.mark.parametrize(
    ("fn", "code"),
    [
        (lambda a: a**2.5, "e_a**2.5"),
        (lambda a: a**-2, "1.0/(e_a*e_a)"),
        (lambda a: 2**a, "2.0**e_a"),
        (lambda a: a**0.5, "e_a**0.5"),
        (lambda a: a**3, "(e_a*e_a*e_a)"),
    ],
    ids=["x**2.5", "x**-2", "2**x", "x**0.5", "x**3"],
)
def test_pow_with_constant_keeps_its_kernel_code(fn, code):
    source = sg.compile(fn, tier="sync").source(sg.tensor([1.5, 2.0]))
    assert f"= {code}\n" in source
    assert "math.log" not in source


# --- 2. std of a constant tensor ------------------------------------------------------------
# PyTorch masks grad / (2 * std) to 0 where std == 0: the gradient is 0, not nan.
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("fn", "array"),
    [
        pytest.param(lambda m, x: x.std(), np.full(3, 3.0), id="all"),
        pytest.param(lambda m, x: x.std(1), np.array([[3.0, 3.0, 3.0], [1.0, 2.0, 4.0]]), id="dim"),
        pytest.param(
            lambda m, x: x.std(0, keepdim=True, correction=0),
            np.array([[2.0, 1.0], [2.0, 5.0]]),
            id="dim0-correction0",
        ),
    ],
)
def test_std_of_constant_values_has_zero_gradient(fn, array, mode):
    check(fn, [array], mode)


# --- 3. binary_cross_entropy at p = 0 and 1 -------------------------------------------------
# PyTorch: each log clamped at -100; d/dp = (p - t) / max(p*(1 - p), 1e-12) (its EPSILON is a
# float 1e-12, so 1/eps = 1.0000000040e12); d/dt = -logit(p) (inf at p = 0, -inf at p = 1).
PROBS = np.array([0.0, 1.0, 0.3] * 3)
TARGETS = np.array([0.0] * 3 + [1.0] * 3 + [0.5] * 3)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("reduction", ["none", "mean"])
def test_binary_cross_entropy_at_zero_and_one(reduction, mode, dtype):
    check(
        lambda m, p, t: (TF if m is torch else F).binary_cross_entropy(p, t, reduction=reduction),
        [PROBS, TARGETS],
        mode,
        dtype,
    )


@pytest.mark.parametrize("mode", MODES)
def test_binary_cross_entropy_with_weight_at_zero_and_one(mode):
    weight = np.linspace(0.5, 2.0, PROBS.size)  # PyTorch has no gradient for it

    def fn(m, p, t):
        if m is torch:
            return TF.binary_cross_entropy(p, t, torch.tensor(weight))
        return F.binary_cross_entropy(p, t, sg.tensor(weight))

    check(fn, [PROBS, TARGETS], mode)


# --- 4. cross_entropy with every label ignored ----------------------------------------------
# PyTorch: the mean is 0/0 = nan and the input gradient is 0 (ignored rows get none).
LOGITS = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("kwargs", "labels"),
    [
        pytest.param({}, np.array([-100, -100]), id="default-ignore-index"),
        pytest.param({"ignore_index": 1}, np.array([1, 1]), id="ignore-index-1"),
        pytest.param({"weight": "w"}, np.array([-100, -100]), id="weight"),
    ],
)
def test_cross_entropy_with_every_label_ignored(kwargs, labels, mode):
    def fn(m, x, y):
        args = dict(kwargs)
        if "weight" in args:
            args["weight"] = (torch.tensor if m is torch else sg.tensor)(np.array([1.0, 2.0, 3.0]))
        return (TF if m is torch else F).cross_entropy(x, y, **args)

    check(fn, [LOGITS, labels], mode)


# --- 5. logsumexp of -inf rows --------------------------------------------------------------
# PyTorch takes an infinite max out as 0: a row of -inf gives -inf (gradient nan, from
# exp(x - result)); a row with +inf gives inf (gradient nan there, 0 elsewhere).
INF_ROWS = np.array([[-np.inf, -np.inf, -np.inf], [1.0, 2.0, -np.inf], [np.inf, 0.0, 1.0]])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("fn", "array"),
    [
        pytest.param(lambda m, x: x.logsumexp(1), INF_ROWS, id="rows"),
        pytest.param(lambda m, x: x.logsumexp(0), INF_ROWS[:2].T.copy(), id="columns"),
        pytest.param(lambda m, x: x.logsumexp((0, 1)), np.full((2, 2), -np.inf), id="all"),
    ],
)
def test_logsumexp_of_infinite_rows(fn, array, mode):
    check(fn, [array], mode)


# --- 6. var and std of one element ----------------------------------------------------------
# PyTorch: 0/0 = nan for the value, and a nan gradient (2/0 * (x - mean) = inf * 0).
@pytest.mark.filterwarnings("ignore:.*degrees of freedom is <= 0")
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    ("fn", "array"),
    [
        pytest.param(lambda m, x: x.var(), np.array([3.0]), id="var"),
        pytest.param(lambda m, x: x.std(), np.array([3.0]), id="std"),
        pytest.param(lambda m, x: x.var(1), np.array([[3.0], [4.0]]), id="var-dim"),
        pytest.param(lambda m, x: x.std(0), np.array([[3.0, 5.0]]), id="std-dim"),
        pytest.param(lambda m, x: x.var(correction=2), np.array([2.0, 2.0]), id="var-c2"),
    ],
)
def test_var_std_of_one_element(fn, array, mode):
    check(fn, [array], mode)


# --- 7. integers to negative integer powers -------------------------------------------------
NEGATIVE_POWER = "Integers to negative integer powers are not allowed"


def test_integer_negative_power_raises_eagerly():
    with pytest.raises(RuntimeError, match=NEGATIVE_POWER):
        torch.tensor([1, 2]) ** -1
    with pytest.raises(UnsupportedOpError, match=NEGATIVE_POWER):
        sg.tensor([1, 2]) ** -1
    assert (sg.tensor([1, 2]) ** 2).tolist() == [1, 4]


@pytest.mark.parametrize("tier", ["sync", "interpret"])
def test_integer_negative_power_raises_when_compiled(tier):
    with pytest.raises(UnsupportedOpError, match=NEGATIVE_POWER):
        sg.compile(lambda a: a**-1, tier=tier)(sg.tensor([1, 2]))
