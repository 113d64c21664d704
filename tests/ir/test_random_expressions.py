"""Random expressions over the op table: gradients match PyTorch eagerly, compiled, and
through grad of grad.

Hypothesis draws a tree of depth at most 6 over smooth ops (so finite differences and
PyTorch agree everywhere), two inputs of broadcastable shapes and the data.  Most
examples run the compiled forms on the interpreter tier; a few on the kernel tier, which
compiles (that is what keeps the suite's time bounded).
"""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import symgrad as sg

UNARY = {
    "sin": lambda m, a: m.sin(a),
    "tanh": lambda m, a: m.tanh(a),
    "sigmoid": lambda m, a: m.sigmoid(a),
    "exp_half": lambda m, a: m.exp(a * 0.5),
    "square": lambda m, a: a * a,
    "neg": lambda m, a: -a,
    "softplus": lambda m, a: m.nn.functional.softplus(a),
}
BINARY = {
    "add": lambda m, a, b: a + b,
    "sub": lambda m, a, b: a - b,
    "mul": lambda m, a, b: a * b,
    "scaled_mul": lambda m, a, b: 0.5 * a * b + b,
}


def _expressions(depth: int) -> st.SearchStrategy:
    leaves = st.sampled_from(["x", "y"])
    if depth == 0:
        return leaves
    smaller = _expressions(depth - 1)
    return st.one_of(
        leaves,
        st.tuples(st.sampled_from(sorted(UNARY)), smaller),
        st.tuples(st.sampled_from(sorted(BINARY)), smaller, smaller),
    )


def _evaluate(m, tree, x, y):
    if tree == "x":
        return x
    if tree == "y":
        return y
    if len(tree) == 2:
        return UNARY[tree[0]](m, _evaluate(m, tree[1], x, y))
    return BINARY[tree[0]](m, _evaluate(m, tree[1], x, y), _evaluate(m, tree[2], x, y))


def _loss(m, tree, x, y):
    return (_evaluate(m, tree, x, y) * 0.3).sum() + (x * y).sum() * 0.0


CASES = st.tuples(
    _expressions(6),
    mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, max_side=3),
    st.integers(0, 2**16),
)


def _data(shapes, seed):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1.5, 1.5, s) for s in shapes.input_shapes]


def _torch_grads(tree, arrays, double: bool):
    x, y = (torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays)
    loss = _loss(torch, tree, x, y)
    gx, gy = torch.autograd.grad(loss, (x, y), create_graph=double)
    if not double:
        return loss.item(), gx.numpy(), gy.numpy()
    return torch.autograd.grad(gx.sum() + gy.sum(), (x, y))


def _check(tree, shapes, seed, tier):
    arrays = _data(shapes, seed)
    value, gx, gy = _torch_grads(tree, arrays, double=False)
    x, y = (sg.tensor(a, requires_grad=True) for a in arrays)
    _loss(sg, tree, x, y).backward()
    for ours, theirs in ((x.grad.numpy(), gx), (y.grad.numpy(), gy)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)

    compiled = sg.value_and_grad(lambda a, b: _loss(sg, tree, a, b), argnums=(0, 1), tier=tier)
    v, (cx, cy) = compiled(*arrays)
    np.testing.assert_allclose(v.item(), value, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(cx.numpy(), gx, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(cy.numpy(), gy, rtol=1e-10, atol=1e-12)

    first = sg.grad(lambda a, b: _loss(sg, tree, a, b), argnums=(0, 1))
    second = sg.grad(lambda a, b: sum(g.sum() for g in first(a, b)), argnums=(0, 1), tier=tier)
    for ours, theirs in zip(second(*arrays), _torch_grads(tree, arrays, True), strict=True):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-9, atol=1e-11)


@settings(max_examples=40, deadline=None)
@given(CASES)
def test_random_expressions_on_the_interpreter(case):
    _check(*case, tier="interpret")


@settings(max_examples=4, deadline=None)
@given(CASES)
def test_random_expressions_on_kernels(case):
    _check(*case, tier="sync")
