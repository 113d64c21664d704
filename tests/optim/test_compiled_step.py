"""A whole training step (zero_grad, forward, loss, backward, step) compiled into one kernel."""

from __future__ import annotations

import numpy as np
import pytest

import symgrad as sg
import symgrad.functional as F


def _params(seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    shapes = [(4, 16), (16,), (16, 1), (1,)]
    draws = [rng.standard_normal(s) * 0.5 for s in shapes]
    return [sg.tensor(d, dtype=dtype, requires_grad=True) for d in draws]


def _data(batch, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, 4))
    return x, np.sin(x.sum(axis=1, keepdims=True))


def _forward(params, x):
    w1, b1, w2, b2 = params
    return sg.tanh(x @ w1 + b1) @ w2 + b2


def _make_step(params, opt):
    @sg.compile
    def step(x, y):
        opt.zero_grad()
        loss = F.mse_loss(_forward(params, x), y)
        loss.backward()
        opt.step()
        return loss

    return step


@pytest.mark.parametrize(
    "make_opt",
    [
        lambda ps: sg.optim.SGD(ps, lr=0.05, momentum=0.9),
        lambda ps: sg.optim.Adam(ps, lr=0.01),
    ],
    ids=["sgd-momentum", "adam"],
)
def test_compiled_step_equals_eager_loop_for_100_steps(make_opt):
    x, y = _data(32)
    eager_params, compiled_params = _params(), _params()
    eager_opt, compiled_opt = make_opt(eager_params), make_opt(compiled_params)
    step = _make_step(compiled_params, compiled_opt)
    for _ in range(100):
        eager_opt.zero_grad()
        loss = F.mse_loss(_forward(eager_params, sg.tensor(x)), sg.tensor(y))
        loss.backward()
        eager_opt.step()
        compiled_loss = step(x, y)
        np.testing.assert_allclose(compiled_loss.item(), loss.item(), rtol=1e-12)
    for a, b in zip(eager_params, compiled_params, strict=True):
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-12, atol=1e-14)
    assert step.trace_count() <= 2  # the first step may build optimizer state


def test_neither_a_new_batch_size_nor_an_lr_change_retraces():
    params = _params(2)
    opt = sg.optim.SGD(params, lr=0.1)
    scheduler = sg.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    step = _make_step(params, opt)
    x, y = _data(8)
    step(x, y)
    before = [p.numpy().copy() for p in params]
    grads = None

    def eager_grads():
        copies = [sg.tensor(p.numpy(), requires_grad=True) for p in params]
        F.mse_loss(_forward(copies, sg.tensor(x)), sg.tensor(y)).backward()
        return [c.grad.numpy() for c in copies]

    scheduler.step()  # lr 0.1 -> 0.05
    grads = eager_grads()
    before = [p.numpy().copy() for p in params]
    step(x, y)
    for p, b, g in zip(params, before, grads, strict=True):
        np.testing.assert_allclose(p.numpy(), b - 0.05 * g, rtol=1e-12, atol=1e-14)
    assert step.trace_count() == 1
    x16, y16 = _data(16)
    grads = eager_grads_for(params, x16, y16)
    scheduler.step()  # lr 0.05 -> 0.025
    before = [p.numpy().copy() for p in params]
    step(x16, y16)  # a new batch size and a new lr: the same trace, right results
    for p, b, g in zip(params, before, grads, strict=True):
        np.testing.assert_allclose(p.numpy(), b - 0.025 * g, rtol=1e-12, atol=1e-14)
    assert step.trace_count() == 1


def eager_grads_for(params, x, y):
    copies = [sg.tensor(p.numpy(), requires_grad=True) for p in params]
    F.mse_loss(_forward(copies, sg.tensor(x)), sg.tensor(y)).backward()
    return [c.grad.numpy() for c in copies]


def test_grads_are_left_on_the_parameters():
    params = _params(3)
    opt = sg.optim.SGD(params, lr=0.0)
    step = _make_step(params, opt)
    x, y = _data(8)
    step(x, y)
    copies = [sg.tensor(p.numpy(), requires_grad=True) for p in params]
    F.mse_loss(_forward(copies, sg.tensor(x)), sg.tensor(y)).backward()
    for p, c in zip(params, copies, strict=True):
        np.testing.assert_allclose(p.grad.numpy(), c.grad.numpy(), rtol=1e-12)
