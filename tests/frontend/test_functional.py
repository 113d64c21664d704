"""sg.functional: stability at logits of ±1000, a two-layer MLP, losses, label errors.

PyTorch is the oracle throughout (float64 to 1e-10, float32 to 1e-5).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import symgrad as sg
import symgrad.functional as F

torch.set_default_dtype(torch.float64)

TOL64 = {"rtol": 1e-10, "atol": 1e-12}
TOL32 = {"rtol": 1e-5, "atol": 1e-6}

# Logits at ±1000, mixed with ordinary values, including a row that is all ±1000.
EXTREME = np.array(
    [
        [1000.0, 0.0, -1000.0, 3.0],
        [-1000.0, 1000.0, 999.0, -1000.0],
        [0.5, -1000.0, -1000.0, 1.5],
        [1000.0, 1000.0, -1000.0, -1000.0],
        [-1000.0, -1000.0, -1000.0, -1000.0],
    ]
)
LABELS = np.array([2, 0, 1, 3, 1])
TARGETS = np.array(
    [
        [1.0, 0.0, 1.0, 0.3],
        [0.0, 1.0, 0.5, 1.0],
        [0.2, 1.0, 0.0, 0.7],
        [0.0, 1.0, 1.0, 0.0],
        [1.0, 0.0, 0.9, 0.1],
    ]
)


def test_nn_functional_is_functional():
    import symgrad.nn.functional as nn_f

    assert sg.nn.functional is nn_f
    assert nn_f.cross_entropy is F.cross_entropy is sg.functional.cross_entropy


def _check_against_torch(fn_sg, fn_torch, arrays, tol=TOL64, seed=1):
    """Values finite and equal to torch's; gradients (random upstream) equal to torch's."""
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    t_out = fn_torch(*ts)
    upstream = np.random.default_rng(seed).uniform(0.5, 1.5, tuple(t_out.shape))
    t_out.backward(torch.tensor(upstream, dtype=t_out.dtype))

    xs = [sg.tensor(a, requires_grad=True) for a in arrays]
    out = fn_sg(*xs)
    assert out.shape == tuple(t_out.shape)
    assert np.all(np.isfinite(out.numpy()))
    np.testing.assert_allclose(out.numpy(), t_out.detach().numpy(), **tol)
    out.backward(gradient=sg.tensor(upstream, dtype=out.dtype))
    for x, t in zip(xs, ts, strict=True):
        assert np.all(np.isfinite(x.grad.numpy()))
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), **tol)
    return xs


STABLE = [
    pytest.param(lambda x: F.softmax(x, dim=1), lambda t: TF.softmax(t, dim=1), id="softmax"),
    pytest.param(lambda x: F.softmax(x, dim=0), lambda t: TF.softmax(t, dim=0), id="softmax-0"),
    pytest.param(lambda x: sg.softmax(x, dim=-1), lambda t: t.softmax(-1), id="sg.softmax"),
    pytest.param(
        lambda x: F.log_softmax(x, dim=1), lambda t: TF.log_softmax(t, dim=1), id="log_softmax"
    ),
    pytest.param(lambda x: x.log_softmax(0), lambda t: t.log_softmax(0), id="log_softmax-0"),
    pytest.param(lambda x: x.logsumexp(dim=1), lambda t: t.logsumexp(dim=1), id="logsumexp"),
    pytest.param(lambda x: sg.logsumexp(x), lambda t: t.logsumexp(dim=(0, 1)), id="lse-all"),
    pytest.param(
        lambda x: x.logsumexp(dim=0, keepdim=True),
        lambda t: t.logsumexp(dim=0, keepdim=True),
        id="lse-keepdim",
    ),
    pytest.param(
        lambda x: F.cross_entropy(x, sg.tensor(LABELS)),
        lambda t: TF.cross_entropy(t, torch.tensor(LABELS)),
        id="cross_entropy",
    ),
    pytest.param(
        lambda x: F.cross_entropy(x, sg.tensor(TARGETS / TARGETS.sum(1, keepdims=True))),
        lambda t: TF.cross_entropy(t, torch.tensor(TARGETS / TARGETS.sum(1, keepdims=True))),
        id="cross_entropy-probs",
    ),
    pytest.param(F.softplus, TF.softplus, id="softplus"),
    pytest.param(
        lambda x: F.softplus(x, beta=0.5, threshold=10.0),
        lambda t: TF.softplus(t, beta=0.5, threshold=10.0),
        id="softplus-beta",
    ),
    pytest.param(F.sigmoid, torch.sigmoid, id="sigmoid"),
    pytest.param(F.tanh, torch.tanh, id="tanh"),
    pytest.param(
        lambda x: F.binary_cross_entropy_with_logits(x, sg.tensor(TARGETS), reduction="none"),
        lambda t: TF.binary_cross_entropy_with_logits(t, torch.tensor(TARGETS), reduction="none"),
        id="bce_with_logits-none",
    ),
    pytest.param(
        lambda x: F.binary_cross_entropy_with_logits(
            x, sg.tensor(TARGETS), pos_weight=sg.tensor([1.0, 2.0, 0.5, 3.0])
        ),
        lambda t: TF.binary_cross_entropy_with_logits(
            t, torch.tensor(TARGETS), pos_weight=torch.tensor([1.0, 2.0, 0.5, 3.0])
        ),
        id="bce_with_logits-pos_weight",
    ),
]


@pytest.mark.parametrize(("fn_sg", "fn_torch"), STABLE)
def test_stable_at_logits_of_plus_minus_1000(fn_sg, fn_torch):
    _check_against_torch(fn_sg, fn_torch, [EXTREME])


@pytest.mark.parametrize(("fn_sg", "fn_torch"), STABLE)
def test_stable_at_logits_of_plus_minus_1000_when_compiled(fn_sg, fn_torch):
    t = torch.tensor(EXTREME, requires_grad=True)
    t_out = fn_torch(t)
    weights = np.random.default_rng(2).uniform(0.5, 1.5, tuple(t_out.shape))
    (t_out * torch.tensor(weights)).sum().backward()
    w = sg.tensor(weights)
    value, grad = sg.value_and_grad(lambda x: (fn_sg(x) * w).sum())(EXTREME)
    expected = float((t_out.detach().numpy() * weights).sum())
    assert np.isfinite(value.item())
    np.testing.assert_allclose(value.item(), expected, rtol=1e-10)
    assert np.all(np.isfinite(grad.numpy()))
    np.testing.assert_allclose(grad.numpy(), t.grad.numpy(), **TOL64)


@pytest.mark.parametrize(
    ("fn_sg", "fn_torch"),
    [
        pytest.param(
            lambda x: F.log_softmax(x, dim=1), lambda t: TF.log_softmax(t, dim=1), id="log_softmax"
        ),
        pytest.param(lambda x: F.softmax(x, dim=1), lambda t: TF.softmax(t, dim=1), id="softmax"),
        pytest.param(
            lambda x: F.cross_entropy(x, sg.tensor(LABELS)),
            lambda t: TF.cross_entropy(t, torch.tensor(LABELS)),
            id="cross_entropy",
        ),
        pytest.param(
            lambda x: F.binary_cross_entropy_with_logits(x, sg.tensor(TARGETS, dtype=sg.float32)),
            lambda t: TF.binary_cross_entropy_with_logits(t, torch.tensor(TARGETS).float()),
            id="bce_with_logits",
        ),
    ],
)
def test_stable_float32_logits(fn_sg, fn_torch):
    (x,) = _check_against_torch(fn_sg, fn_torch, [EXTREME.astype(np.float32)], tol=TOL32)
    assert x.grad.dtype == np.float32


# --- a two-layer MLP ------------------------------------------------------------------------
def _mlp_data(dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 5)).astype(dtype)
    params = [
        (rng.standard_normal((5, 7)) / 2).astype(dtype),
        (rng.standard_normal(7) / 2).astype(dtype),
        (rng.standard_normal((7, 3)) / 2).astype(dtype),
        (rng.standard_normal(3) / 2).astype(dtype),
    ]
    y = np.array([0, 2, 1, 2, 2, 0, 1, 0], dtype=np.int64)
    return x, params, y


def _mlp(m, x, w1, b1, w2, b2, y):
    f = m.nn.functional
    return f.cross_entropy(f.relu(x @ w1 + b1) @ w2 + b2, y)


def _torch_mlp(dtype):
    x, params, y = _mlp_data(dtype)
    ps = [torch.tensor(p, requires_grad=True) for p in params]
    loss = _mlp(torch, torch.tensor(x), *ps, torch.tensor(y))
    loss.backward()
    return loss.item(), [p.grad.numpy() for p in ps]


@pytest.mark.parametrize(
    ("dtype", "tol"), [(np.float64, TOL64), (np.float32, TOL32)], ids=["float64", "float32"]
)
def test_mlp_gradients_match_torch_in_eager_mode(dtype, tol):
    x, params, y = _mlp_data(dtype)
    t_loss, t_grads = _torch_mlp(dtype)
    ps = [sg.tensor(p, requires_grad=True) for p in params]
    loss = _mlp(sg, sg.tensor(x), *ps, sg.tensor(y))
    assert loss.dtype == dtype
    np.testing.assert_allclose(loss.item(), t_loss, **tol)
    loss.backward()
    for p, g in zip(ps, t_grads, strict=True):
        assert p.grad.dtype == dtype
        assert p.grad.shape == g.shape
        np.testing.assert_allclose(p.grad.numpy(), g, **tol)


@pytest.mark.parametrize(
    ("dtype", "tol"), [(np.float64, TOL64), (np.float32, TOL32)], ids=["float64", "float32"]
)
def test_mlp_gradients_match_torch_when_compiled(dtype, tol):
    x, params, y = _mlp_data(dtype)
    t_loss, t_grads = _torch_mlp(dtype)

    def loss(w1, b1, w2, b2, x, y):
        return _mlp(sg, x, w1, b1, w2, b2, y)

    step = sg.value_and_grad(loss, argnums=(0, 1, 2, 3))
    value, grads = step(*params, x, y)
    assert value.dtype == dtype
    np.testing.assert_allclose(value.item(), t_loss, **tol)
    assert len(grads) == 4
    for g, t_g in zip(grads, t_grads, strict=True):
        assert g.dtype == dtype
        assert g.shape == t_g.shape
        np.testing.assert_allclose(g.numpy(), t_g, **tol)

    # new labels, same signature: the cached kernel reads the new int64 argument
    y2 = (y + 1) % 3
    ps = [torch.tensor(p, requires_grad=True) for p in params]
    t_loss2 = _mlp(torch, torch.tensor(x), *ps, torch.tensor(y2))
    t_loss2.backward()
    value2, grads2 = step(*params, x, y2)
    assert step.trace_count() == 1
    np.testing.assert_allclose(value2.item(), t_loss2.item(), **tol)
    for g, p in zip(grads2, ps, strict=True):
        np.testing.assert_allclose(g.numpy(), p.grad.numpy(), **tol)


def test_mlp_compiled_matches_eager_with_partial_argnums():
    x, params, y = _mlp_data(np.float64)
    _, t_grads = _torch_mlp(np.float64)
    g_w2, g_b1 = sg.grad(
        lambda w1, b1, w2, b2, x, y: _mlp(sg, x, w1, b1, w2, b2, y), argnums=(2, 1)
    )(*params, x, y)
    np.testing.assert_allclose(g_w2.numpy(), t_grads[2], **TOL64)
    np.testing.assert_allclose(g_b1.numpy(), t_grads[1], **TOL64)


# --- label errors ---------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [3, 7, -1], ids=["classes", "far", "negative"])
def test_cross_entropy_label_out_of_range_raises_index_error_eager(bad):
    logits = sg.tensor(np.zeros((4, 3)), requires_grad=True)
    with pytest.raises(IndexError):
        F.cross_entropy(logits, sg.tensor([0, 1, bad, 2]))
    with pytest.raises(IndexError):
        F.nll_loss(logits, sg.tensor([bad, 1, 0, 2]))


# Shared by the parametrized cases below, so each kernel compiles once.
_CE = sg.compile(lambda x, y: F.cross_entropy(x, y))
_CE_GRAD = sg.value_and_grad(lambda x, y: F.cross_entropy(x, y))


@pytest.mark.parametrize("bad", [3, 7, -1], ids=["classes", "far", "negative"])
def test_cross_entropy_label_out_of_range_raises_index_error_compiled(bad):
    logits = np.random.default_rng(0).standard_normal((4, 3))
    good = np.array([0, 1, 2, 2])
    bad_labels = np.array([0, 1, bad, 2])
    with pytest.raises(IndexError):  # torch: "Target ... is out of bounds"
        TF.cross_entropy(torch.tensor(logits), torch.tensor(bad_labels))

    t_value = TF.cross_entropy(torch.tensor(logits), torch.tensor(good)).item()
    np.testing.assert_allclose(_CE(logits, good).item(), t_value, rtol=1e-12)
    with pytest.raises(IndexError):
        _CE(logits, bad_labels)
    with pytest.raises(IndexError):
        _CE_GRAD(logits, bad_labels)


def test_ignore_index_is_not_out_of_range():
    logits = np.random.default_rng(1).standard_normal((4, 3))
    labels = np.array([0, -100, 2, 1])
    _check_against_torch(
        lambda x: F.cross_entropy(x, sg.tensor(labels)),
        lambda t: TF.cross_entropy(t, torch.tensor(labels)),
        [logits],
    )
    value = sg.compile(lambda x, y: F.cross_entropy(x, y))(logits, labels)
    expected = TF.cross_entropy(torch.tensor(logits), torch.tensor(labels)).item()
    np.testing.assert_allclose(value.item(), expected, rtol=1e-12)


# --- reduction variants ---------------------------------------------------------------------
RNG = np.random.default_rng(3)
LOGITS = RNG.standard_normal((6, 4))
LABELS6 = np.array([3, 0, 3, 1, 2, 0])
PRED = RNG.standard_normal((3, 4))
TARGET = RNG.standard_normal((3, 4))
PROBS = 1 / (1 + np.exp(-RNG.standard_normal((3, 4))))


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize(
    ("name", "arrays", "args_sg", "args_torch"),
    [
        ("cross_entropy", [LOGITS], lambda: [sg.tensor(LABELS6)], lambda: [torch.tensor(LABELS6)]),
        (
            "cross_entropy",
            [LOGITS],
            lambda: [sg.tensor(LABELS6), sg.tensor([0.5, 2.0, 1.0, 1.5])],
            lambda: [torch.tensor(LABELS6), torch.tensor([0.5, 2.0, 1.0, 1.5])],
        ),
        ("nll_loss", [LOGITS], lambda: [sg.tensor(LABELS6)], lambda: [torch.tensor(LABELS6)]),
        ("mse_loss", [PRED], lambda: [sg.tensor(TARGET)], lambda: [torch.tensor(TARGET)]),
        ("l1_loss", [PRED], lambda: [sg.tensor(TARGET)], lambda: [torch.tensor(TARGET)]),
        (
            "binary_cross_entropy",
            [PROBS],
            lambda: [sg.tensor(PROBS[::-1].copy())],
            lambda: [torch.tensor(PROBS[::-1].copy())],
        ),
        (
            "binary_cross_entropy_with_logits",
            [PRED],
            lambda: [sg.tensor(PROBS)],
            lambda: [torch.tensor(PROBS)],
        ),
    ],
    ids=["ce", "ce-weight", "nll", "mse", "l1", "bce", "bce_logits"],
)
def test_loss_reductions_match_torch(reduction, name, arrays, args_sg, args_torch):
    _check_against_torch(
        lambda x: getattr(F, name)(x, *args_sg(), reduction=reduction),
        lambda t: getattr(TF, name)(t, *args_torch(), reduction=reduction),
        arrays,
    )


def test_unknown_reduction_raises_value_error():
    with pytest.raises(ValueError, match="reduction"):
        F.mse_loss(sg.ones(2), sg.zeros(2), reduction="avg")


def test_cross_entropy_reduction_none_when_compiled():
    f = sg.compile(lambda x, y: F.cross_entropy(x, y, reduction="none"))
    out = f(LOGITS, LABELS6)
    expected = TF.cross_entropy(torch.tensor(LOGITS), torch.tensor(LABELS6), reduction="none")
    assert out.shape == (6,)
    np.testing.assert_allclose(out.numpy(), expected.numpy(), **TOL64)


@pytest.mark.parametrize(
    ("loss", "target"),
    [
        (lambda z, t: F.cross_entropy(z, t, label_smoothing=0.1), np.array([1, 0, 3])),
        (lambda z, t: F.nll_loss(F.log_softmax(z, dim=1), t), np.array([2, 2, 0])),
        (F.binary_cross_entropy_with_logits, np.linspace(0.1, 0.9, 12).reshape(3, 4)),
    ],
    ids=["cross_entropy", "nll_of_log_softmax", "bce_with_logits"],
)
def test_losses_pass_gradcheck(loss, target):
    logits = np.random.default_rng(3).standard_normal((3, 4))
    assert sg.testing.gradcheck(loss, logits, target)


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss"])
def test_a_target_of_another_shape_broadcasts_with_a_warning_as_in_torch(name):
    # (N, 1) predictions against (N,) targets: PyTorch broadcasts to (N, N) and warns
    rng = np.random.default_rng(0)
    pred, target = rng.standard_normal((4, 1)), rng.standard_normal(4)
    tp = torch.tensor(pred, requires_grad=True)
    with pytest.warns(UserWarning, match="target size"):
        want = getattr(TF, name)(tp, torch.tensor(target))
    want.backward()
    sp = sg.tensor(pred, requires_grad=True)
    with pytest.warns(UserWarning, match="target size"):
        got = getattr(F, name)(sp, sg.tensor(target))
    got.backward()
    np.testing.assert_allclose(got.item(), want.item(), rtol=1e-12)
    np.testing.assert_allclose(sp.grad.numpy(), tp.grad.numpy(), rtol=1e-12)
    with pytest.raises(sg.errors.ShapeError, match=name):
        getattr(F, name)(sg.tensor(rng.standard_normal((4, 3))), sg.tensor(target))
