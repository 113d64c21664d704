"""Passes: fusion keeps one nonlinear function per node, CSE merges, constants fold."""

from __future__ import annotations

import numpy as np
import pytest

import symgrad as sg
from symgrad.compiler import passes
from symgrad.frontend.trace import trace

F64 = np.dtype("float64")


def _optimized(fn, *shapes):
    graph = trace(fn, [(s, F64) for s in shapes], [f"v{i}" for i in range(len(shapes))]).graph
    return passes.optimize(graph)


def test_seed_fuses_into_one_node():
    g = _optimized(lambda a, b: 3 * a**3 - b**2, (2,), (2,))
    assert len(g.nodes) == 1 and str(g.nodes[0].formula(["a", "b"])) == "3*a**3 - b**2"


def test_nested_functions_stay_separate_nodes():
    g = _optimized(lambda x: sg.tanh(2 * sg.tanh(x + 1) + 1), (2,))
    assert len(g.nodes) == 2


def test_shared_cheap_value_is_not_duplicated():
    g = _optimized(lambda a, b: sg.exp(a * a + b) + sg.sin(a * a + b), (2,), (2,))
    assert sum(n.op == "elementwise" for n in g.nodes) == 4  # a*a + b once, exp, sin, add


def test_shared_single_operation_is_recomputed_not_stored():
    g = _optimized(lambda a, b: sg.exp(a - b) + sg.sin(a - b), (2,), (2,))
    assert sum(n.op == "elementwise" for n in g.nodes) == 3
    assert all(set(map(id, n.inputs)) == set(map(id, g.inputs)) for n in g.nodes[:2])


def test_common_subexpressions_merge():
    g = _optimized(lambda a: sg.exp(a) * sg.exp(a), (2,))
    assert len(g.nodes) == 2


def test_constants_fold():
    g = _optimized(lambda a: a * 2 * 3 + 4 - 4, (2,))
    assert len(g.nodes) == 1 and str(g.nodes[0].formula(["a"])) == "6*a"


def _no_transposed_product(graph) -> bool:
    return not any(
        n.op == "permute"
        and n.inputs[0].producer is not None
        and n.inputs[0].producer.op == "matmul"
        for n in graph.nodes
    )


def test_a_product_read_only_transposed_is_turned_around():
    g = _optimized(lambda x, w: sg.exp((x.T @ w).T), (5, 3), (5, 4))
    assert _no_transposed_product(g)
    (product,) = [n for n in g.nodes if n.op == "matmul"]
    assert product.output.shape == (4, 3)
    assert product.inputs[1] is g.inputs[0]  # w.T @ x: x read as it is


def test_a_product_also_read_as_it_is_is_kept():
    g = _optimized(lambda x, w: (x.T @ w).T.sum() + (x.T @ w).sum(), (5, 3), (5, 4))
    assert not _no_transposed_product(g)


@pytest.mark.parametrize("tier", ["sync", "interpret"])
def test_turned_around_products_give_the_same_gradients(tier):
    rng = np.random.default_rng(0)
    x, w, g = rng.standard_normal((6, 3)), rng.standard_normal((4, 3)), rng.standard_normal((6, 4))

    def loss(x, w):  # a Linear layer: the weight's gradient is (x.T @ g).T
        return ((x @ w.T) * g).sum()

    got = sg.grad(loss, argnums=(0, 1), tier=tier)(x, w)
    np.testing.assert_allclose(got[0].numpy(), g @ w, rtol=1e-12)
    np.testing.assert_allclose(got[1].numpy(), g.T @ x, rtol=1e-12)
