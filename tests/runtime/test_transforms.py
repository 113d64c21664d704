"""jacobian, hessian, hvp, jvp and autograd.grad against torch.func and torch.autograd."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.func

import symgrad as sg
from symgrad.errors import GradError

X = np.array([0.3, -1.2, 2.0])
V = np.array([1.0, 0.5, -2.0])


def _scalar(m, x):
    return (m.sin(x) * x**2).sum() + (m.tanh(x) * x[0]).sum()


def _vector(m, x):
    return m.tanh(x) * x[0] + x**3


def _t(a):
    return torch.tensor(a, dtype=torch.float64)


def test_jacobian_matches_jacrev():
    ours = sg.jacobian(lambda x: _vector(sg, x))(X).numpy()
    theirs = torch.func.jacrev(lambda x: _vector(torch, x))(_t(X)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)


def test_jacobian_of_several_arguments_and_matrix_outputs():
    a, b = np.arange(6.0).reshape(2, 3) / 7, np.linspace(-1, 1, 3)
    ours = sg.jacobian(lambda a, b: sg.exp(a) * b, argnums=(0, 1))(a, b)
    theirs = torch.func.jacrev(lambda a, b: torch.exp(a) * b, argnums=(0, 1))(_t(a), _t(b))
    for o, t in zip(ours, theirs, strict=True):
        assert o.shape == tuple(t.shape)
        np.testing.assert_allclose(o.numpy(), t.numpy(), rtol=1e-12, atol=1e-14)


def test_hessian_matches_torch():
    ours = sg.hessian(lambda x: _scalar(sg, x))(X).numpy()
    theirs = torch.func.hessian(lambda x: _scalar(torch, x))(_t(X)).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)


def test_hvp_matches_forward_over_reverse():
    ours = sg.hvp(lambda x: _scalar(sg, x))(X, V).numpy()
    gradient = torch.func.grad(lambda x: _scalar(torch, x))
    theirs = torch.func.jvp(gradient, (_t(X),), (_t(V),))[1].numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)


def test_jvp_matches_torch_func_jvp():
    w = np.array([0.5, -1.0, 2.0])
    out, tangent = sg.jvp(lambda x, y: _vector(sg, x) * y, (X, w), (V, np.ones(3)))
    t_out, t_tangent = torch.func.jvp(
        lambda x, y: _vector(torch, x) * y, (_t(X), _t(w)), (_t(V), torch.ones(3).double())
    )
    np.testing.assert_allclose(out.numpy(), t_out.numpy(), rtol=1e-14)
    np.testing.assert_allclose(tangent.numpy(), t_tangent.numpy(), rtol=1e-12, atol=1e-14)
    with pytest.raises(GradError, match="tangent of shape"):
        sg.jvp(lambda x: x, (X,), (np.ones(2),))


def test_transforms_nest_inside_compiled_functions():
    third = sg.grad(lambda x: sg.hessian(lambda y: (y**4).sum())(x).sum())(np.array([1.0, 2.0]))
    np.testing.assert_allclose(third.numpy(), [24.0, 48.0])


def test_autograd_grad_matches_torch_and_leaves_grad_alone():
    x = sg.tensor(X, requires_grad=True)
    h = x * 2
    y = (sg.sin(h) * h).sum()
    ours = sg.autograd.grad(y, [h, x])
    tx = _t(X).requires_grad_()
    th = tx * 2
    ty = (torch.sin(th) * th).sum()
    theirs = torch.autograd.grad(ty, [th, tx])
    for o, t in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(o.numpy(), t.numpy(), rtol=1e-12)
        assert not o.requires_grad
    assert x.grad is None


def test_autograd_grad_with_create_graph_gives_second_derivatives():
    x = sg.tensor(X, requires_grad=True)
    (g,) = sg.autograd.grad((x**3).sum(), x, create_graph=True)
    assert g.requires_grad
    (gg,) = sg.autograd.grad((g * sg.tensor(V)).sum(), x)
    np.testing.assert_allclose(gg.numpy(), 6 * X * V, rtol=1e-14)


def test_autograd_grad_outputs_and_unused_inputs():
    x = sg.tensor(X, requires_grad=True)
    z = sg.tensor(V, requires_grad=True)
    y = x**2
    (g,) = sg.autograd.grad(y, x, grad_outputs=sg.tensor(V))
    np.testing.assert_allclose(g.numpy(), 2 * X * V)
    with pytest.raises(GradError, match="allow_unused"):
        sg.autograd.grad(y.sum(), [x, z])
    assert sg.autograd.grad(y.sum(), [x, z], allow_unused=True)[1] is None
    with pytest.raises(GradError, match="needs gradient="):
        sg.autograd.grad(y, x)
