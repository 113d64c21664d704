"""Formulas of whole models check themselves: ``evaluate`` (from the SymPy expressions)
equals PyTorch's gradients, and ``verify=True`` compares with the gradient kernels and
finite differences."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import symgrad as sg

RNG = np.random.default_rng(7)
X = RNG.standard_normal((5, 4))
W1, B1 = RNG.standard_normal((4, 6)) * 0.5, RNG.standard_normal(6) * 0.1
W2, B2 = RNG.standard_normal((6, 3)) * 0.5, RNG.standard_normal(3) * 0.1
LABELS = [0, 2, 1, 2, 0]
TARGETS = RNG.uniform(size=(5, 3))
WEIGHTS = RNG.uniform(0.5, 1.5, (5, 3))


def _mlp_ce(m, x, w1, b1, w2, b2):
    hidden = m.nn.functional.relu(x @ w1 + b1)
    return m.nn.functional.cross_entropy(hidden @ w2 + b2, m.tensor(LABELS))


def _layer_norm(m, x, g, b):
    return (m.nn.functional.layer_norm(x, (4,), g, b) ** 2).sum()


def _softmax(m, x, w):
    return (m.nn.functional.softmax(x @ w, dim=1) * m.tensor(TARGETS)).sum()


def _logsumexp(m, x, w):
    return m.logsumexp(x @ w, dim=1).sum()


def _bce_logits(m, x, w, b):
    return m.nn.functional.binary_cross_entropy_with_logits(x @ w + b, m.tensor(TARGETS))


def _rosenbrock(m, x):
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


def _tanh_chain(m, x, w):
    for _ in range(12):
        x = m.tanh(x * w + 0.1)
    return (x * m.tensor(WEIGHTS[0, :1])).sum()


MODELS = {
    "mlp_cross_entropy": (_mlp_ce, (X, W1, B1, W2, B2)),
    "layer_norm": (_layer_norm, (X, RNG.uniform(0.5, 1.5, 4), RNG.standard_normal(4))),
    "softmax": (_softmax, (X, W2[:4])),
    "logsumexp": (_logsumexp, (X, W2[:4])),
    "bce_with_logits": (_bce_logits, (X, W2[:4], B2)),
    "rosenbrock": (_rosenbrock, (RNG.standard_normal(6),)),
    "tanh_chain": (_tanh_chain, (RNG.standard_normal(3), RNG.uniform(0.5, 1.5, 3))),
}


def _torch_grads(fn, arrays):
    inputs = [torch.tensor(a, requires_grad=True) for a in arrays]
    fn(torch, *inputs).sum().backward()
    return [t.grad.numpy() for t in inputs]


@pytest.mark.parametrize("name", list(MODELS))
def test_evaluate_matches_torch_and_verify_passes(name):
    fn, arrays = MODELS[name]
    f = sg.formulas(lambda *xs: fn(sg, *xs), *arrays, verify=True)
    ours = f.evaluate(*arrays)
    for got, want in zip(ours.values(), _torch_grads(fn, arrays), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


def test_tanh_chain_formulas_grow_like_the_graph():
    fn, arrays = MODELS["tanh_chain"]
    short = str(sg.formulas(lambda *xs: fn(sg, *xs), *arrays))

    def longer(x, w):
        for _ in range(24):
            x = sg.tanh(x * w + 0.1)
        return x.sum()

    long = str(sg.formulas(longer, *arrays))
    # twice the layers, about twice the text (inlining would square it or worse)
    assert len(long) < 3 * len(short)
    assert "where" in long


def test_module_parameters_get_formulas_named_after_the_module():
    model = sg.nn.Sequential(sg.nn.Linear(4, 3), sg.nn.Tanh())
    data = sg.tensor(X)

    def loss(x):
        return (model(x) ** 2).mean()

    f = sg.formulas(loss, data, verify=True)
    assert list(f) == ["x", "model.0.weight", "model.0.bias"]
    layer = torch.nn.Linear(4, 3).double()
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(model[0].weight.numpy()))
        layer.bias.copy_(torch.tensor(model[0].bias.numpy()))
    (torch.tanh(layer(torch.tensor(X))) ** 2).mean().backward()
    values = f.evaluate(X)
    np.testing.assert_allclose(values["model.0.weight"], layer.weight.grad.numpy(), rtol=1e-9)
    np.testing.assert_allclose(values["model.0.bias"], layer.bias.grad.numpy(), rtol=1e-9)
