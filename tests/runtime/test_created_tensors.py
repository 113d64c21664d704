"""Tensors created inside a compiled function start from their created value at every
call, whatever in-place ops did to them, as they do when the function runs eagerly."""

from __future__ import annotations

import numpy as np
import pytest

import symgrad as sg


@pytest.mark.parametrize("tier", ["sync", "interpret"])
def test_a_buffer_changed_in_place_does_not_carry_over(tier):
    def f(x):
        buf = sg.zeros(3)
        buf.add_(x)
        buf[0] = buf[0] * 10
        return buf * 1

    compiled = sg.compile(f, tier=tier)
    x = np.array([1.0, 2.0, 3.0])
    expected = f(sg.tensor(x)).numpy()
    for _ in range(3):
        np.testing.assert_array_equal(compiled(x).numpy(), expected)


def test_a_grad_set_to_fresh_zeros_then_accumulated_matches_eager():
    def make():
        sg.manual_seed(0)
        model = sg.nn.Linear(3, 2)
        opt = sg.optim.SGD(model.parameters(), lr=0.1)

        def step(x, y):
            for p in model.parameters():
                p.grad = sg.zeros_like(p)
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            opt.step()
            return loss

        return model, step

    rng = np.random.default_rng(0)
    batches = [(rng.standard_normal((4, 3)), rng.standard_normal((4, 2))) for _ in range(4)]
    eager_model, eager_step = make()
    model, step = make()
    compiled = sg.compile(step, tier="sync")
    for x, y in batches:
        expected = eager_step(sg.tensor(x), sg.tensor(y)).item()
        assert compiled(x, y).item() == pytest.approx(expected, rel=1e-12)
    for p, q in zip(model.parameters(), eager_model.parameters(), strict=True):
        np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=1e-12)
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-12)
