"""Every optimizer against torch.optim: same start, same data, 20 steps, float64."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import symgrad as sg

VARIANTS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.02, betas=(0.8, 0.99), weight_decay=0.1)),
    ("Adam", dict(lr=0.02, amsgrad=True)),
    ("AdamW", dict(lr=0.02)),
    ("AdamW", dict(lr=0.02, weight_decay=0.3, amsgrad=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, weight_decay=0.05)),
    ("RMSprop", dict(lr=0.01, centered=True, alpha=0.9)),
]


def _problem(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((16, 3))
    y = rng.standard_normal((16, 2))
    w = rng.standard_normal((3, 2))
    b = rng.standard_normal(2)
    return x, y, w, b


def _loss(m, x, y, w, b):
    return ((m.tanh(x @ w + b) - y) ** 2).mean()


@pytest.mark.parametrize(("name", "kwargs"), VARIANTS, ids=[f"{n}-{k}" for n, k in VARIANTS])
def test_matches_torch_for_20_steps(name, kwargs):
    x, y, w0, b0 = _problem()
    ours = [sg.tensor(w0, requires_grad=True), sg.tensor(b0, requires_grad=True)]
    theirs = [torch.tensor(w0, requires_grad=True), torch.tensor(b0, requires_grad=True)]
    opt = getattr(sg.optim, name)(ours, **kwargs)
    topt = getattr(torch.optim, name)(theirs, **kwargs)
    sx, sy, tx, ty = sg.tensor(x), sg.tensor(y), torch.tensor(x), torch.tensor(y)
    for _ in range(20):
        opt.zero_grad()
        loss = _loss(sg, sx, sy, *ours)
        loss.backward()
        opt.step()
        topt.zero_grad()
        tloss = _loss(torch, tx, ty, *theirs)
        tloss.backward()
        topt.step()
        np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-10)
    for p, tp in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_param_groups_have_their_own_hyperparameters():
    x, y, w0, b0 = _problem(1)
    ours = [sg.tensor(w0, requires_grad=True), sg.tensor(b0, requires_grad=True)]
    theirs = [torch.tensor(w0, requires_grad=True), torch.tensor(b0, requires_grad=True)]
    opt = sg.optim.SGD([{"params": [ours[0]]}, {"params": [ours[1]], "lr": 0.5}], lr=0.1)
    topt = torch.optim.SGD([{"params": [theirs[0]]}, {"params": [theirs[1]], "lr": 0.5}], lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        _loss(sg, sg.tensor(x), sg.tensor(y), *ours).backward()
        opt.step()
        topt.zero_grad()
        _loss(torch, torch.tensor(x), torch.tensor(y), *theirs).backward()
        topt.step()
    for p, tp in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(p.numpy(), tp.detach().numpy(), rtol=1e-12)


def test_step_is_one_kernel_reused():
    x, y, w0, b0 = _problem(2)
    params = [sg.tensor(w0, requires_grad=True), sg.tensor(b0, requires_grad=True)]
    opt = sg.optim.Adam(params, lr=0.01)
    for _ in range(5):
        opt.zero_grad()
        _loss(sg, sg.tensor(x), sg.tensor(y), *params).backward()
        opt.step()
    assert opt._update.trace_count() == 1  # Adam's state exists from the first step on


def test_state_dict_round_trip_continues_identically():
    x, y, w0, b0 = _problem(3)

    def run(opt, params, steps):
        for _ in range(steps):
            opt.zero_grad()
            _loss(sg, sg.tensor(x), sg.tensor(y), *params).backward()
            opt.step()

    a = [sg.tensor(w0, requires_grad=True), sg.tensor(b0, requires_grad=True)]
    opt_a = sg.optim.Adam(a, lr=0.05)
    run(opt_a, a, 3)
    saved = opt_a.state_dict()
    b = [sg.tensor(p.numpy(), requires_grad=True) for p in a]
    opt_b = sg.optim.Adam(b, lr=0.05)
    opt_b.load_state_dict(saved)
    run(opt_a, a, 2)
    run(opt_b, b, 2)
    for p, q in zip(a, b, strict=True):
        np.testing.assert_array_equal(p.numpy(), q.numpy())


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError, match="empty parameter list"):
        sg.optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="only optimize tensors"):
        sg.optim.SGD([np.ones(2)], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        sg.optim.Adam([sg.ones(2, requires_grad=True) * 2])
    with pytest.raises(ValueError, match="can't optimize a non-leaf"):  # PyTorch refuses too
        torch.optim.Adam([torch.ones(2, requires_grad=True) * 2])
