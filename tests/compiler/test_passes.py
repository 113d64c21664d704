"""Passes: fusion keeps one nonlinear function per node, CSE merges, constants fold."""

from __future__ import annotations

import numpy as np

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
