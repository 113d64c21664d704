"""Pytree arguments and results (JAX style): compile, grad, value_and_grad and transforms.

Gradients and derivatives are checked against ``torch.func`` (which takes and returns
pytrees the same way) on the same functions written with torch; result structures are
compared leaf for leaf after flattening both sides, dict keys sorted as JAX sorts them.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import pytest
import torch
from torch import func as tf

import symgrad as sg
from symgrad.frontend import pytree

Pair = namedtuple("Pair", ["left", "right"])


def _torch(tree):
    """The same pytree with float64 torch tensors for leaves."""
    return pytree.tree_map(lambda a: torch.tensor(np.asarray(a, dtype=np.float64)), tree)


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def _params(rng: np.random.Generator) -> dict:
    return {
        "w": rng.normal(size=(3, 2)),
        "b": rng.normal(size=2),
        "extra": (rng.normal(size=2), [1.5]),  # a number leaf inside a list
    }


def _loss(np_):
    def loss(params, x):
        h = np_.tanh(x @ params["w"] + params["b"])
        shift, (scale,) = params["extra"]
        return (h * shift).sum() * scale + (params["b"] ** 2).sum()

    return loss


def _numpy(leaf):
    return leaf.detach().numpy() if isinstance(leaf, torch.Tensor) else np.asarray(leaf)


def _close(ours, theirs, rtol=1e-10, atol=1e-12):
    """``ours`` (a pytree of Tensors) has the structure and values of ``theirs``."""
    ours_leaves, ours_tree = pytree.flatten(pytree.tree_map(lambda t: t.numpy(), ours))
    their_leaves, their_tree = pytree.flatten(pytree.tree_map(_numpy, theirs))
    assert ours_tree == their_tree
    for a, b in zip(ours_leaves, their_leaves, strict=True):
        np.testing.assert_allclose(a, np.asarray(b), rtol=rtol, atol=atol)


def test_flatten_sorts_dict_keys_and_round_trips():
    tree = {"b": (1, [2, None]), "a": Pair(3, {"z": 4, "y": 5})}
    leaves, structure = pytree.flatten(tree)
    assert leaves == [3, 5, 4, 1, 2]  # JAX's order: keys sorted, None has no leaves
    assert pytree.unflatten(structure, leaves) == tree
    assert pytree.leaf_paths(structure)[1] == "['a'].right['y']"
    assert pytree.flatten({"a": 1, "b": 2})[1] == pytree.flatten({"b": 2, "a": 1})[1]


def test_grad_of_a_dict_of_parameters_is_a_dict_like_jax():
    rng = _rng()
    params, x = _params(rng), rng.normal(size=(4, 3))
    grads = sg.grad(_loss(sg))(params, x)
    expected = tf.grad(_loss(torch))(_torch(params), _torch(x))
    _close(grads, expected)
    value, (g_params, g_x) = sg.value_and_grad(_loss(sg), argnums=(0, 1))(params, x)
    (their_params, their_x), their_value = tf.grad_and_value(_loss(torch), argnums=(0, 1))(
        _torch(params), _torch(x)
    )
    assert value.item() == pytest.approx(float(their_value), rel=1e-12)
    _close(g_params, their_params)
    _close(g_x, their_x)


def test_compiled_function_returns_the_structure_it_built():
    def f(inputs, pair):
        total = inputs["a"] + inputs["b"][0]
        return {"sum": total, "parts": [pair.left * 2, None, (pair.right,)]}, pair.right.sum()

    rng = _rng(1)
    inputs = {"b": [rng.normal(size=3)], "a": rng.normal(size=3)}
    pair = Pair(rng.normal(size=(2, 3)), rng.normal(size=4))
    out = sg.compile(f, tier="interpret")(inputs, pair)
    _close(out, f(inputs, pair))  # the same code on NumPy arrays
    assert isinstance(out[0]["parts"], list) and out[0]["parts"][1] is None


def test_structure_is_part_of_the_signature_but_values_are_not():
    calls = []

    @sg.compile(tier="interpret")
    def f(d):
        calls.append(1)
        return sum(pytree.flatten(d)[0], sg.zeros(()))

    assert f({"a": 1.0, "b": 2.0}).item() == 3.0
    assert f({"b": 5.0, "a": 1.0}).item() == 6.0  # same keys, other order and values
    assert len(calls) == 1
    assert f({"a": 1.0, "c": 2.0}).item() == 3.0  # other keys: a new trace
    assert f([1.0, 2.0]).item() == 3.0 and len(calls) == 3  # a list is another structure


def test_compiled_kernel_with_a_pytree_argument():
    rng = _rng(2)
    params, x = _params(rng), rng.normal(size=(5, 3))
    step = sg.grad(_loss(sg), tier="sync")
    for _ in range(2):  # a second call runs the kernel
        _close(step(params, x), tf.grad(_loss(torch))(_torch(params), _torch(x)))
    assert step.status() == "kernel"
    assert "params_w" in step.graph(params, x)  # leaf names in the listing


def test_grad_inside_another_compiled_function_and_eagerly():
    rng = _rng(3)
    params, x = _params(rng), rng.normal(size=(2, 3))
    inner = sg.grad(_loss(sg))

    def outer(params, x):
        return inner(params, x)["w"].sum()

    expected = tf.grad(_loss(torch))(_torch(params), _torch(x))["w"]
    _close(sg.compile(outer, tier="interpret")(params, x), expected.sum())
    eager = {k: v for k, v in params.items()}
    eager["w"] = sg.tensor(params["w"], requires_grad=True)
    total = sg.compile(lambda p, x: _loss(sg)(p, x), tier="interpret")(eager, x)
    total.backward()  # called on tensors that require grad: recorded where it runs
    _close(eager["w"].grad, expected)


def test_hessian_jacobian_hvp_and_jvp_of_pytrees_match_torch_func():
    rng = _rng(4)
    p = {"w": rng.normal(size=3), "b": rng.normal(size=2)}
    v = {"w": rng.normal(size=3), "b": rng.normal(size=2)}

    def f(d, np_=sg):
        return (d["w"] ** 3).sum() * (d["b"] ** 2).sum() + np_.sin(d["w"]).sum()

    pt, vt = _torch(p), _torch(v)
    _close(sg.hessian(f)(p), tf.hessian(lambda d: f(d, torch))(pt))

    def g(d, np_=sg):
        return {"y": d["w"] * d["b"][0], "z": np_.exp(d["b"]).sum()}

    _close(sg.jacobian(g)(p), tf.jacrev(lambda d: g(d, torch))(pt))
    _close(sg.hvp(f)(p, v), tf.jvp(tf.grad(lambda d: f(d, torch)), (pt,), (vt,))[1])
    out, tangent = sg.jvp(lambda d, s: [g(d)["y"] * s, None], (p, 2.0), (v, 0.5))
    assert out[1] is None and tangent[1] is None  # torch.func.jvp takes tensor outputs only
    their_out, their_tangent = tf.jvp(
        lambda d, s: g(d, torch)["y"] * s, (pt, _torch(2.0)), (vt, _torch(0.5))
    )
    _close(out[0], their_out)
    _close(tangent[0], their_tangent)


def test_bad_leaves_and_mismatched_structures_name_the_argument():
    f = sg.compile(lambda params, x: params["w"] * x, tier="interpret")
    with pytest.raises(TypeError, match=r"'params' at params\['w'\]: unsupported str"):
        f({"w": "one"}, np.ones(2))
    with pytest.raises(TypeError, match=r"argument 'x'.*unsupported object"):
        f({"w": 1.0}, object())
    with pytest.raises(TypeError, match=r"dict keys .* sortable"):
        f({"w": 1.0, 2: 1.0}, np.ones(2))
    p = {"w": np.ones(2)}
    with pytest.raises(TypeError, match=r"tangent for argument 'd' has structure \[\*\]"):
        sg.jvp(lambda d: d["w"] * 2, (p,), ([np.ones(2)],))
    with pytest.raises(TypeError, match=r"hvp: v has structure .* argument 'd'"):
        sg.hvp(lambda d: (d["w"] ** 3).sum())(p, (np.ones(2),))
    with pytest.raises(sg.errors.GradError, match=r"argument \"p\['n'\]\" has dtype int64"):
        sg.grad(lambda p: p["w"].sum() * p["n"].sum(), tier="interpret")(
            {"w": np.ones(2), "n": np.array([1, 2])}
        )
    with pytest.raises(sg.errors.TraceError, match="got str inside a dict"):
        sg.compile(lambda x: {"a": x, "b": "text"}, tier="interpret")(np.ones(2))
