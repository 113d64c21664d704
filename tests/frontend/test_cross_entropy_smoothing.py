"""``F.cross_entropy`` with ``label_smoothing``, with and without ``weight`` and ignored
targets: values and gradients against PyTorch, eagerly and compiled."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import symgrad as sg
import symgrad.functional as F

SHAPES = {"(N, C)": (6, 4), "(N, C, d)": (3, 4, 5), "(C,)": (4,)}


def _case(shape, ignore_index, seed=0):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=shape) * 3
    classes = shape[0] if len(shape) == 1 else shape[1]
    target_shape = () if len(shape) == 1 else (shape[0], *shape[2:])
    target = rng.integers(0, classes, size=target_shape)
    if target.ndim:
        target.flat[1] = ignore_index  # one ignored entry (a class itself when ignore_index=2)
    weight = rng.uniform(0.2, 2.0, size=classes)
    upstream = rng.normal(size=target_shape)
    return logits, target, weight, upstream


def _theirs(logits, target, weight, kwargs, upstream):
    x = torch.tensor(logits, requires_grad=True)
    w = None if weight is None else torch.tensor(weight)
    loss = torch.nn.functional.cross_entropy(x, torch.tensor(target), weight=w, **kwargs)
    (loss * torch.tensor(upstream)).sum().backward() if loss.ndim else loss.backward()
    return loss.detach().numpy(), x.grad.numpy()


def _ours(logits, target, weight, kwargs, upstream):
    x = sg.tensor(logits, requires_grad=True)
    w = None if weight is None else sg.tensor(weight)
    loss = F.cross_entropy(x, sg.tensor(target), weight=w, **kwargs)
    (loss * sg.tensor(upstream)).sum().backward() if loss.ndim else loss.backward()
    return loss.numpy(), x.grad.numpy()


@pytest.mark.parametrize("weighted", [True, False], ids=["weight", "no weight"])
@pytest.mark.parametrize("ignore_index", [-100, 2])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape", sorted(SHAPES), ids=str)
def test_label_smoothing_matches_pytorch(shape, reduction, ignore_index, weighted):
    logits, target, weight, upstream = _case(SHAPES[shape], ignore_index)
    weight = weight if weighted else None
    kwargs = dict(ignore_index=ignore_index, reduction=reduction, label_smoothing=0.15)
    value, grad = _ours(logits, target, weight, kwargs, upstream)
    their_value, their_grad = _theirs(logits, target, weight, kwargs, upstream)
    np.testing.assert_allclose(value, their_value, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(grad, their_grad, rtol=1e-10, atol=1e-12)


def test_every_target_ignored_gives_nan_with_a_zero_gradient():
    logits, _, weight, upstream = _case((3, 4), -100)
    target = np.full(3, -100)
    kwargs = dict(label_smoothing=0.1)
    value, grad = _ours(logits, target, weight, kwargs, upstream)
    their_value, their_grad = _theirs(logits, target, weight, kwargs, upstream)
    assert np.isnan(value) and np.isnan(their_value)
    np.testing.assert_array_equal(grad, their_grad)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_compiled_gradient_matches_pytorch(reduction):
    logits, target, weight, _ = _case((5, 3, 2), 1, seed=3)
    kwargs = dict(ignore_index=1, reduction=reduction, label_smoothing=0.3)
    loss = sg.value_and_grad(
        lambda x, t, w: F.cross_entropy(x, t, weight=w, **kwargs), tier="interpret"
    )
    value, grad = loss(logits, target, weight)
    their_value, their_grad = _theirs(logits, target, weight, kwargs, np.ones(()))
    np.testing.assert_allclose(value.numpy(), their_value, rtol=1e-10)
    np.testing.assert_allclose(grad.numpy(), their_grad, rtol=1e-10, atol=1e-12)


def test_probability_targets_with_weight_and_smoothing():
    rng = np.random.default_rng(5)
    logits, weight = rng.normal(size=(4, 3)), rng.uniform(0.5, 2.0, size=3)
    target = rng.dirichlet(np.ones(3), size=4)
    kwargs = dict(reduction="mean", label_smoothing=0.2)
    value, grad = _ours(logits, target, weight, kwargs, np.ones(()))
    their_value, their_grad = _theirs(logits, target, weight, kwargs, np.ones(()))
    np.testing.assert_allclose(value, their_value, rtol=1e-10)
    np.testing.assert_allclose(grad, their_grad, rtol=1e-10, atol=1e-12)
