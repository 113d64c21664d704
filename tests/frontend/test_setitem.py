"""``x[index] = value`` on traced tensors and tensors recorded for gradients, against PyTorch.

Integer tensors (a context window shifted as in makemore) and float tensors, inside
compiled functions and eagerly; gradients flow to the written value and to the
elements left alone; an argument changed in place is changed for the caller too.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import symgrad as sg


def _shift_in(idx, token):
    """makemore's context update: drop the oldest token, append the new one."""
    idx[:, :-1] = idx[:, 1:].clone()
    idx[:, -1] = token
    return idx


def test_int_context_window_shifts_inside_a_compiled_function():
    step = sg.compile(lambda idx, tok: _shift_in(idx, tok) * 1)
    rng = np.random.default_rng(0)
    ours = np.zeros((3, 5), np.int64)
    theirs = torch.zeros((3, 5), dtype=torch.long)
    for _ in range(7):
        token = rng.integers(0, 27, size=3)
        out = step(ours, token)  # the argument array is updated in place, as eagerly
        _shift_in(theirs, torch.tensor(token))
        assert out.dtype == np.int64
        np.testing.assert_array_equal(out.numpy(), theirs.numpy())
        np.testing.assert_array_equal(ours, theirs.numpy())
    assert step.trace_count() == 1


def test_int_writes_with_ints_arrays_and_masks_in_a_trace():
    def f(x, v, lib):
        x[0] = 7
        x[1, ::2] = v[: (x.shape[1] + 1) // 2]
        x[lib.tensor([2, 3]), 1] = lib.tensor([-1, -2])
        x[x > 50] = 0
        return x * 1

    data = np.arange(24).reshape(4, 6) * 3
    v = np.array([100, 101, 102])
    out = sg.compile(lambda x, v: f(x, v, sg), tier="interpret")(data.copy(), v)
    expected = f(torch.tensor(data), torch.tensor(v), torch)
    np.testing.assert_array_equal(out.numpy(), expected.numpy())


def _writes(x, v, lib):
    y = x * 2
    y[0, 1:] = v
    y[lib.tensor([2, 0]), 0] = v[0] * 3
    y[..., -1] = lib.tanh(y[..., -1])
    y[y < -1.0] = 0.5
    return (y**2 * lib.cos(y)).sum()


@pytest.mark.parametrize("mode", ["eager", "compiled"])
def test_float_writes_have_pytorchs_gradients(mode):
    rng = np.random.default_rng(1)
    x, v = rng.normal(size=(3, 3)), rng.normal(size=2)
    tx = torch.tensor(x, requires_grad=True)
    tv = torch.tensor(v, requires_grad=True)
    _writes(tx, tv, torch).backward()
    if mode == "eager":
        sx, sv = sg.tensor(x, requires_grad=True), sg.tensor(v, requires_grad=True)
        _writes(sx, sv, sg).backward()
        gx, gv = sx.grad, sv.grad
    else:
        gx, gv = sg.grad(lambda a, b: _writes(a, b, sg), argnums=(0, 1))(x, v)
    np.testing.assert_allclose(gx.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gv.numpy(), tv.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_eager_rules_follow_pytorch():
    w = sg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(sg.errors.GradError, match="leaf tensor that requires grad"):
        w[0] = 5.0
    with sg.no_grad():  # allowed without recording, as torch
        w[0] = 5.0
    assert w.numpy().tolist() == [5.0, 2.0] and w.requires_grad
    plain = sg.zeros(3)
    plain[1] = w[1] * 3  # a plain tensor takes a value that requires grad: now recorded
    assert plain.requires_grad
    plain.sum().backward()
    assert w.grad.numpy().tolist() == [0.0, 3.0]


def test_a_written_argument_is_written_back():
    @sg.compile
    def bump(x):
        x.add_(1)
        x[0] = -5.0
        return x.sum()

    data = np.zeros(4)
    assert bump(data).item() == -2.0
    assert data.tolist() == [-5.0, 1.0, 1.0, 1.0]
    t = sg.zeros(4)
    bump(t)
    assert t.numpy().tolist() == [-5.0, 1.0, 1.0, 1.0]
