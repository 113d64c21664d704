"""``zero_grad()`` and ``p.grad = None`` anywhere in a compiled training step.

Each step is written once and run by PyTorch on a copy of the model and by symgrad
compiled; losses, parameters and the ``.grad`` left behind must agree after every call
(and the step must not be traced again and again).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import symgrad as sg


def _models(seed: int = 0):
    sg.manual_seed(seed)
    ours = sg.nn.Sequential(sg.nn.Linear(3, 5), sg.nn.Tanh(), sg.nn.Linear(5, 2))
    theirs = torch.nn.Sequential(
        torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2)
    ).double()
    with torch.no_grad():
        for p, q in zip(ours.parameters(), theirs.parameters(), strict=True):
            q.copy_(torch.tensor(p.numpy()))
    return ours, theirs


OPTIMIZERS = {
    "sgd": lambda params, optim: optim.SGD(params, lr=0.1, momentum=0.9),
    "adam": lambda params, optim: optim.Adam(params, lr=0.01),
}


def _step(variant: str, model, opt, x, y):
    """One training step; ``variant`` says where the gradients are reset."""

    def loss_of():
        return ((model(x) - y) ** 2).mean()

    if variant == "zero_grad first":
        opt.zero_grad()
    if variant == "grad = None first":
        for p in model.parameters():
            p.grad = None
    loss = loss_of()
    loss.backward()
    if variant == "two backward calls":
        (loss_of() * 0.5).backward()
    opt.step()
    if variant in ("zero_grad last", "two backward calls"):
        opt.zero_grad()
    elif variant == "model.zero_grad last":
        model.zero_grad()
    elif variant == "grad = None last":
        for p in model.parameters():
            p.grad = None
    elif variant == "zero_grad(set_to_none=False) last":
        opt.zero_grad(set_to_none=False)
    return loss


VARIANTS = [
    "zero_grad first",
    "grad = None first",
    "zero_grad last",
    "model.zero_grad last",
    "grad = None last",
    "zero_grad(set_to_none=False) last",
    "two backward calls",
]


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("variant", VARIANTS)
def test_compiled_step_resets_gradients_as_eager(variant, optimizer):
    ours, theirs = _models()
    opt = OPTIMIZERS[optimizer](ours.parameters(), sg.optim)
    their_opt = OPTIMIZERS[optimizer](theirs.parameters(), torch.optim)
    step = sg.compile(lambda x, y: _step(variant, ours, opt, x, y), tier="interpret")
    rng = np.random.default_rng(1)
    for _ in range(5):
        x, y = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
        loss = step(x, y)
        their_loss = _step(variant, theirs, their_opt, torch.tensor(x), torch.tensor(y))
        assert loss.item() == pytest.approx(their_loss.item(), rel=1e-10)
    for p, q in zip(ours.parameters(), theirs.parameters(), strict=True):
        np.testing.assert_allclose(p.numpy(), q.detach().numpy(), rtol=1e-10, atol=1e-12)
        if q.grad is None:
            assert p.grad is None
        else:
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-10, atol=1e-12)
    # SGD's first step starts the momentum buffer; a kept .grad changes the step once
    assert step.trace_count() <= 2


def test_zero_grad_after_step_runs_the_kernel():
    ours, theirs = _models(3)
    opt, their_opt = (
        sg.optim.Adam(ours.parameters(), lr=0.01),
        torch.optim.Adam(theirs.parameters(), lr=0.01),
    )
    step = sg.compile(lambda x, y: _step("zero_grad last", ours, opt, x, y), tier="sync")
    rng = np.random.default_rng(2)
    for _ in range(3):
        x, y = rng.normal(size=(6, 3)), rng.normal(size=(6, 2))
        np.testing.assert_allclose(
            step(x, y).item(),
            _step("zero_grad last", theirs, their_opt, torch.tensor(x), torch.tensor(y)).item(),
            rtol=1e-10,
        )
    assert step.status() == "kernel" and step.trace_count() == 1
    assert all(p.grad is None for p in ours.parameters())
    for p, q in zip(ours.parameters(), theirs.parameters(), strict=True):
        np.testing.assert_allclose(p.numpy(), q.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_step_after_an_eager_backward_then_zero_grad():
    """Gradients from outside the compiled function are used, then dropped, as eagerly."""
    ours, theirs = _models(4)
    opt = sg.optim.SGD(ours.parameters(), lr=0.1)
    their_opt = torch.optim.SGD(theirs.parameters(), lr=0.1)
    x, y = np.ones((2, 3)), np.zeros((2, 2))

    def apply_and_reset(o):
        o.step()
        o.zero_grad()

    step = sg.compile(lambda: apply_and_reset(opt), tier="interpret")
    for _ in range(2):
        ((ours(sg.tensor(x)) - sg.tensor(y)) ** 2).sum().backward()
        ((theirs(torch.tensor(x)) - torch.tensor(y)) ** 2).sum().backward()
        step()
        apply_and_reset(their_opt)
        step()  # no gradients now: nothing moves
        apply_and_reset(their_opt)
    for p, q in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert p.grad is None
        np.testing.assert_allclose(p.numpy(), q.detach().numpy(), rtol=1e-12)
