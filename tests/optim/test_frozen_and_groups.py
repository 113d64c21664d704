"""Optimizers skip parameters that are frozen (``requires_grad=False``) or have no ``.grad``,
and honour parameter groups, as PyTorch's do; eagerly and in a compiled step."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import symgrad as sg
import symgrad.nn.functional as F

RNG = np.random.default_rng(17)

OPTIMIZERS = {
    "sgd": lambda opt, ps: opt.SGD(ps, lr=0.1),
    "sgd-momentum": lambda opt, ps: opt.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
    "adam": lambda opt, ps: opt.Adam(ps, lr=0.05, weight_decay=0.1),
    "adamw": lambda opt, ps: opt.AdamW(ps, lr=0.05),
    "rmsprop": lambda opt, ps: opt.RMSprop(ps, lr=0.01, momentum=0.5, centered=True),
}


def _three_params():
    """Trainable, frozen (requires_grad=False) and trainable-but-unused, in both libraries."""
    arrays = [RNG.standard_normal((3, 2)), RNG.standard_normal(2), RNG.standard_normal(4)]
    ours = [sg.tensor(a, requires_grad=i != 1) for i, a in enumerate(arrays)]
    ref = [torch.tensor(a, requires_grad=i != 1) for i, a in enumerate(arrays)]
    return ours, ref


def _loss(lib, params, x):
    w, b = params[:2]
    out = lib.tanh(x @ w + b)
    return (out * out).sum()


@pytest.mark.parametrize("make", OPTIMIZERS.values(), ids=OPTIMIZERS.keys())
def test_frozen_and_gradless_parameters_are_skipped_like_torch(make):
    ours, ref = _three_params()
    before = [p.numpy().copy() for p in ours]
    opt, ref_opt = make(sg.optim, ours), make(torch.optim, ref)
    for _ in range(3):
        x = RNG.standard_normal((5, 3))
        opt.zero_grad()
        _loss(sg, ours, sg.tensor(x)).backward()
        opt.step()
        ref_opt.zero_grad()
        _loss(torch, ref, torch.tensor(x)).backward()
        ref_opt.step()
    assert ours[1].grad is None and ours[2].grad is None
    np.testing.assert_array_equal(ours[1].numpy(), before[1])  # frozen: untouched
    np.testing.assert_array_equal(ours[2].numpy(), before[2])  # no gradient: untouched
    for p, q in zip(ours, ref, strict=True):
        np.testing.assert_allclose(p.numpy(), q.detach().numpy(), rtol=1e-12, atol=1e-14)
    assert set(map(id, opt.state)) <= {id(ours[0])}


def test_param_groups_with_their_own_hyperparameters_match_torch():
    ours, ref = _three_params()
    extra = RNG.standard_normal(2)
    ours.append(sg.tensor(extra, requires_grad=True))
    ref.append(torch.tensor(extra, requires_grad=True))

    def make(lib, ps):
        opt = lib.optim.SGD(
            [{"params": [ps[0]], "lr": 0.3}, {"params": ps[1:3], "momentum": 0.5}],
            lr=0.1,
            momentum=0.9,
        )
        opt.add_param_group({"params": ps[3], "lr": 0.01, "weight_decay": 0.1})
        return opt

    opt, ref_opt = make(sg, ours), make(torch, ref)
    assert [g["lr"] for g in opt.param_groups] == [g["lr"] for g in ref_opt.param_groups]
    assert [g["momentum"] for g in opt.param_groups] == [0.9, 0.5, 0.9]
    for _ in range(3):
        x = RNG.standard_normal((5, 3))
        opt.zero_grad()
        (_loss(sg, ours, sg.tensor(x)) + (ours[3] ** 2).sum()).backward()
        opt.step()
        ref_opt.zero_grad()
        (_loss(torch, ref, torch.tensor(x)) + (ref[3] ** 2).sum()).backward()
        ref_opt.step()
    for p, q in zip(ours, ref, strict=True):
        np.testing.assert_allclose(p.numpy(), q.detach().numpy(), rtol=1e-12, atol=1e-14)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [ours[0]]})


def test_compiled_step_with_a_frozen_layer_matches_torch():
    torch.manual_seed(0)
    ref = torch.nn.Sequential(torch.nn.Linear(3, 6), torch.nn.Tanh(), torch.nn.Linear(6, 1))
    ref = ref.double()
    ours = sg.nn.Sequential(sg.nn.Linear(3, 6), sg.nn.Tanh(), sg.nn.Linear(6, 1))
    ours.load_state_dict({k: v.numpy() for k, v in ref.state_dict().items()})
    ours[0].requires_grad_(False)
    ref[0].requires_grad_(False)
    opt = sg.optim.Adam(ours.parameters(), lr=0.05)  # frozen parameters included, as in torch
    ref_opt = torch.optim.Adam(ref.parameters(), lr=0.05)

    @sg.compile
    def step(x, y):
        opt.zero_grad()
        loss = F.mse_loss(ours(x), y)
        loss.backward()
        opt.step()
        return loss

    frozen = ours[0].weight.numpy().copy()
    for _ in range(3):
        x, y = RNG.standard_normal((8, 3)), RNG.standard_normal((8, 1))
        loss = step(x, y)
        ref_opt.zero_grad()
        ref_loss = torch.nn.functional.mse_loss(ref(torch.tensor(x)), torch.tensor(y))
        ref_loss.backward()
        ref_opt.step()
        np.testing.assert_allclose(loss.item(), ref_loss.item(), rtol=1e-10)
    np.testing.assert_array_equal(ours[0].weight.numpy(), frozen)
    assert ours[0].weight.grad is None
    for name, value in ref.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[name], value.numpy(), rtol=1e-10)
