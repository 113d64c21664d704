"""Tracing state: captured tensors, tensors reached through ``.grad``, write-back."""

from __future__ import annotations

import numpy as np

import symgrad as sg


def _make_step():
    w = sg.randn(1, 3, requires_grad=True)
    b = sg.randn(1, requires_grad=True)
    x = sg.randn(4, 3)
    (x @ w.T + b).sum().backward()

    def step(x):
        if w.grad is not None:  # reads the old .grad, then drops it
            w.grad = None
        if b.grad is not None:
            b.grad = None
        loss = (x @ w.T + b).sum()
        loss.backward()
        return loss

    return sg.compile(step), x, w, b


def test_dropped_grads_are_not_confused_with_new_ones():
    # Tensors freed during a trace must not lend their id() to tensors made later.
    first, x1, _, _ = _make_step()
    first(x1)
    second, x2, w, b = _make_step()
    second(x2)
    np.testing.assert_allclose(w.grad.numpy(), x2.numpy().sum(axis=0, keepdims=True))
    np.testing.assert_allclose(b.grad.numpy(), [4.0])


def test_compiled_model_inference_equals_eager():
    sg.manual_seed(0)
    model = sg.nn.Sequential(sg.nn.Linear(3, 5), sg.nn.Tanh(), sg.nn.Linear(5, 2))
    x = sg.randn(7, 3)
    predict = sg.compile(model)
    np.testing.assert_allclose(predict(x).numpy(), model(x).numpy(), rtol=1e-13)
    with sg.no_grad():
        model[0].weight.mul_(2.0)  # parameters are read at every call, not baked in
    np.testing.assert_allclose(predict(x).numpy(), model(x).numpy(), rtol=1e-13)


def test_backward_of_non_scalar_model_output_needs_gradient():
    model = sg.nn.Linear(3, 2)
    out = model(sg.randn(4, 3))
    try:
        out.backward()
    except sg.errors.GradError as error:
        assert "shape (4, 2) needs gradient=" in str(error)
    else:
        raise AssertionError("backward() on a (4, 2) output without gradient= must raise")
