"""Softmax, log-softmax and cross entropy print as named functions, and still evaluate
to PyTorch's gradients and the kernels' (``verify=True``)."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

import symgrad as sg
import symgrad.nn.functional as F
from symgrad.formulas.algebra import prune_conditions

RNG = np.random.default_rng(7)
X = RNG.standard_normal((4, 3))
W = RNG.standard_normal((3, 5))
LABELS = np.array([0, 2, 1, 4])
DATA, TARGETS = sg.tensor(X), sg.tensor(LABELS)


def _torch_grad(loss, w):
    tw = torch.tensor(w, requires_grad=True)
    loss(tw).backward()
    return tw.grad.numpy()


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (
            lambda w: (F.softmax(DATA @ w, dim=1) ** 2).sum(),
            lambda w: (torch.softmax(torch.tensor(X) @ w, dim=1) ** 2).sum(),
        ),
        (
            lambda w: (F.log_softmax(DATA @ w, dim=0) * (DATA @ w)).sum(),
            lambda w: (torch.log_softmax(torch.tensor(X) @ w, dim=0) * (torch.tensor(X) @ w)).sum(),
        ),
        (
            lambda w: F.cross_entropy(F.relu(DATA @ w), TARGETS),
            lambda w: torch.nn.functional.cross_entropy(
                torch.relu(torch.tensor(X) @ w), torch.tensor(LABELS)
            ),
        ),
    ],
    ids=["softmax", "log_softmax", "cross_entropy"],
)
def test_named_softmax_formulas_evaluate_to_torch_gradients(ours, theirs):
    f = sg.formulas(ours, W, verify=True)  # formulas == kernels == finite differences
    text = str(f)
    assert "softmax(" in text and "exp(" not in text and not re.search(r"(?<!soft)max\(", text)
    np.testing.assert_allclose(f.evaluate(W)["w"], _torch_grad(theirs, W), rtol=1e-9)


def test_softmax_used_twice_is_named_once():
    f = sg.formulas(lambda w: (F.softmax(DATA @ w, dim=1) ** 2).sum(), W)
    lines = str(f).splitlines()
    assert lines[1:] == ["where", "  t1 = softmax(DATA*w, axis=1)"]
    assert lines[0] == "∂f/∂w = DATA.T*((2*t1 - sum((2*t1)⊙t1, axis=1))⊙t1)"


def test_log_softmax_gradient_reads_as_a_textbook_one():
    f = sg.formulas(lambda z: sg.log_softmax(z, dim=0).sum(), np.zeros(3))
    assert str(f) == "∂f/∂z = 1 - 3*softmax(z)"  # sum over the axis of ones: its length
    np.testing.assert_allclose(f.evaluate(np.zeros(3))["z"], [0.0, 0.0, 0.0], atol=1e-15)


def test_cross_entropy_shows_row_positions_and_labels_not_internal_names():
    text = str(sg.formulas(lambda w: F.cross_entropy(DATA @ w, TARGETS), W))
    assert "arange(4)" in text and "TARGETS" in text and "cap" not in text
    assert "where(TARGETS != -100" in text and "Piecewise" not in text


def test_a_hand_written_softmax_is_recognized_too():
    def f(z):
        e = sg.exp(z - z.amax(dim=1, keepdim=True).detach())
        return (e / e.sum(dim=1, keepdim=True) * (DATA @ W)).sum()

    z = RNG.standard_normal((4, 5))
    formulas = sg.formulas(f, z, verify=True)
    assert "softmax(z, axis=1)" in str(formulas)


def test_an_exp_over_another_sum_stays_as_written():
    def f(z):  # the sum is over the other axis: not a softmax
        e = sg.exp(z - z.amax(dim=1, keepdim=True).detach())
        return (e / e.sum(dim=0, keepdim=True)).sum()

    z = RNG.standard_normal((4, 5))
    formulas = sg.formulas(f, z, verify=True)
    assert "softmax" not in str(formulas) and "exp(" in str(formulas)


def test_pruned_conditions_drop_branches_that_cannot_be_taken():
    import sympy

    c, s = sympy.Symbol("c", positive=True) > 1, sympy.Symbol("s")
    nested = sympy.Piecewise((0, c), (sympy.Piecewise((1, c), (1 / s, True)), True))
    assert prune_conditions(nested) == sympy.Piecewise((0, c), (1 / s, True))


def test_layer_norm_prints_standardize_and_matches_torch():
    weight, bias = sg.tensor([1.0, 2.0, -1.0, 0.5, 3.0]), sg.tensor([0.1, 0.0, 0.2, -0.3, 0.0])

    def f(w):
        return sg.tanh(F.layer_norm(DATA @ w, (5,), weight, bias)).sum()

    formulas = sg.formulas(f, W, verify=True)
    text = str(formulas)
    assert "standardize(DATA*w, axis=1)" in text and "var(DATA*w, axis=1)" in text

    def theirs(w):
        z = torch.tensor(X) @ w
        normed = torch.nn.functional.layer_norm(
            z, (5,), torch.tensor(weight.numpy()), torch.tensor(bias.numpy())
        )
        return torch.tanh(normed).sum()

    np.testing.assert_allclose(formulas.evaluate(W)["w"], _torch_grad(theirs, W), rtol=1e-9)


def test_batch_norm_in_training_standardizes_over_the_batch_dims():
    x = sg.tensor(RNG.standard_normal((6, 2, 3)))
    running_mean, running_var = sg.zeros(2), sg.ones(2)

    def f(scale):
        out = F.batch_norm(x, running_mean, running_var, training=True, eps=1e-3)
        return (out * scale).sum()

    formulas = sg.formulas(f, np.ones((2, 1)), verify=True)
    assert "standardize(x, axis=(0, 2), eps=0.001)" in str(formulas)
