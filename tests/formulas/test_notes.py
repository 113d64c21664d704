"""Notes on kinks: where the function is not differentiable and which derivative is taken."""

from __future__ import annotations

import numpy as np
import torch

import symgrad as sg


def test_notes_list_the_kinks_of_relu_and_abs_and_str_ends_with_them():
    f = sg.formulas(lambda x: sg.relu(x) + abs(x))
    assert f.notes == [
        "relu(x) at x = 0: derivative 0 (relu'(0) = 0)",
        "|x| at x = 0: derivative 0 (|x|'(0) = 0)",
    ]
    assert str(f).endswith("\n".join(f.notes[-1:]))


def test_the_conventions_stated_are_the_ones_computed():
    # relu'(0) = 0 and |x|'(0) = 0, as PyTorch computes them
    f = sg.formulas(lambda x: sg.relu(x) + abs(x), np.zeros(2))
    t = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    (torch.relu(t) + t.abs()).sum().backward()
    np.testing.assert_array_equal(f.evaluate(np.zeros(2))["x"], t.grad.numpy())
    assert t.grad.numpy().tolist() == [0.0, 0.0]


def test_ties_of_max_are_noted_and_split_evenly():
    f = sg.formulas(lambda x: x.max(), np.ones(4))
    assert any("tied entries share the gradient evenly" in n for n in f.notes)
    np.testing.assert_allclose(f.evaluate(np.ones(4))["x"], 0.25)  # 4-way tie: 1/4 each
    g = sg.formulas(lambda a, b: sg.maximum(a, b))
    assert any("split evenly" in n for n in g.notes)
    assert g.evaluate(1.0, 1.0) == {"a": 0.5, "b": 0.5}


def test_clamped_logs_of_binary_cross_entropy_are_noted():
    f = sg.formulas(
        lambda p, t: sg.nn.functional.binary_cross_entropy(p, t), np.full(3, 0.5), np.ones(3)
    )
    assert any("clamped at -100" in n for n in f.notes)


def test_smooth_functions_have_no_notes():
    assert sg.formulas(lambda x: sg.tanh(x) * sg.exp(x)).notes == []
    # PyTorch's softplus turns linear above its threshold: a (tiny) kink, and noted
    assert "x > 20" in sg.formulas(lambda x: sg.nn.functional.softplus(x)).notes[0]
    logits = sg.formulas(
        lambda x: sg.nn.functional.binary_cross_entropy_with_logits(x, sg.tensor([1.0, 0.0])),
        np.zeros(2),
    )
    assert logits.notes == []
    detached = sg.formulas(lambda x: sg.logsumexp(x, dim=0), np.ones(3))
    assert detached.notes == []  # the max taken out of logsumexp is not differentiated
