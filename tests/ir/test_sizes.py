"""Traced sizes: arithmetic stays symbolic, comparisons and ints leave guards behind."""

from __future__ import annotations

import operator

import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

from symgrad import ir
from symgrad.ir.size_rewrite import finalize, free_sizes, specialize
from symgrad.ir.sizes import FloorDiv, SizeEnv, size_symbol

F64 = np.dtype(np.float64)


def test_arithmetic_is_symbolic_and_needs_no_guard():
    env = SizeEnv()
    n = env.dim(0, 0, 64)
    m = env.dim(0, 1, 3)
    total = n * m
    assert total.hint == 192 and total.expr == n.expr * m.expr
    assert (total // m).expr == n.expr  # an exact division simplifies
    assert (n - 1).hint == 63 and (2 + n).hint == 66
    assert n != 1 and n != 0 and n > 1 and n * 2 > n  # true of every size >= 2
    assert n == n and (n + 1) - 1 == n
    assert env.guards == []


def test_comparisons_answer_from_the_example_and_are_guarded():
    env = SizeEnv()
    n = env.dim(0, 0, 64)
    b = env.dim(1, 0, 64)
    assert n == 64
    assert n == b
    assert not (n > 100)
    assert [str(g) for g in env.guards] == [
        "Eq(d0_0 - 64, 0)",
        "Eq(d0_0 - d1_0, 0)",
        "d0_0 - 100 <= 0",
    ]


def test_leaving_the_symbolic_world_specialises():
    env = SizeEnv()
    n = env.dim(0, 0, 5)
    assert list(range(n)) == [0, 1, 2, 3, 4]
    assert np.zeros(n).shape == (5,)
    assert int(n) == 5 and float(n) == 5.0 and n / 2 == 2.5
    assert {str(g) for g in env.guards} == {"Eq(d0_0 - 5, 0)"}


def test_a_size_does_not_hash_like_the_int_it_equals():
    # memo tables keyed by shapes must not match a traced size to a concrete entry
    env = SizeEnv()
    n = env.dim(0, 0, 7)
    assert {(7, 3): "concrete"}.get((n, 3)) is None
    assert env.guards == []


def _graph_of(*shapes):
    env = SizeEnv()
    inputs = [
        ir.Var(tuple(env.dim(i, d, s) if s > 1 else s for d, s in enumerate(shape)), F64)
        for i, shape in enumerate(shapes)
    ]
    return env, inputs


def test_finalize_unifies_equal_sizes_and_pins_constants():
    env, (x, w, y) = _graph_of((64, 64), (64, 10), (64,))
    h = ir.matmul(x, w)  # x's width meets w's constant-like rows: a guard d0_1 == d1_0
    loss = ir.reduce_sum(
        ir.elementwise(ir.arg(0) * ir.arg(1), [h, ir.reshape(y, (y.shape[0], 1))]), (0, 1), False
    )
    graph = ir.Graph([x, w, y], [loss])
    guards = finalize(env, graph)
    n0, n1, n2 = (size_symbol(k) for k in range(3))
    assert x.shape == (n0, n1) and w.shape == (n1, n2) and y.shape == (n0,)
    assert [s.name for s, _, _ in free_sizes(graph)] == ["n_0", "n_1", "n_2"]
    assert guards.holds([(37, 5), (5, 10), (37,)])
    assert not guards.holds([(37, 5), (6, 10), (37,)])  # widths differ
    assert not guards.holds([(37, 5), (5, 10), (36,)])  # batch sizes differ


def test_finalize_pins_a_size_compared_with_a_number():
    env, (x,) = _graph_of((64, 3))
    assert x.shape[0] == 64  # the traced code read the size as a number
    graph = ir.Graph([x], [ir.reduce_sum(x, (0,), False)])
    guards = finalize(env, graph)
    assert x.shape == (64, size_symbol(0))  # the other dim stays free
    assert guards.holds([(64, 5)]) and not guards.holds([(65, 3)])


def test_specialize_puts_numbers_in_shapes_params_and_expressions():
    env, (x,) = _graph_of((6, 4))
    count = x.shape[0] * x.shape[1]
    total = ir.reduce_sum(x, (0, 1), False)
    mean = ir.elementwise(ir.arg(0) / count.expr, [total])
    flat = ir.reshape(x, (count,))
    graph = ir.Graph([x], [mean, flat])
    finalize(env, graph)
    concrete = specialize(graph, {size_symbol(0): 3, size_symbol(1): 5})
    assert concrete.inputs[0].shape == (3, 5)
    assert concrete.outputs[1].shape == (15,)
    assert concrete.nodes[-1].params.shape == (15,)
    expr = next(n.expr for n in concrete.nodes if n.expr is not None and n.inputs)
    assert expr.free_symbols == {ir.arg(0)} and expr.subs(ir.arg(0), 15) == 1
    assert graph.inputs[0].shape == (size_symbol(0), size_symbol(1))  # the original is kept


def test_a_size_in_a_form_kernels_cannot_compute_is_pinned():
    env, (x,) = _graph_of((9,))
    half = x.shape[0] // 2  # floor(n/2): not a polynomial
    graph = ir.Graph([x], [ir.reshape(ir.elementwise(ir.arg(0), [x]), (9,))])
    graph.nodes[-1].params = ir.ReshapeParams((half * 2 + 1,))
    guards = finalize(env, graph)
    assert all(isinstance(n, int) for n in graph.inputs[0].shape)
    assert not guards.holds([(11,)])


@pytest.mark.parametrize("relation", ["<", "<=", ">", ">="])
def test_order_guards_check_the_new_sizes(relation):
    env, (x,) = _graph_of((10,))
    ops = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
    answer = ops[relation](x.shape[0], 10)
    guards = finalize(env, ir.Graph([x], [ir.reduce_sum(x, (0,), False)]))
    for size in (5, 10, 15):
        assert guards.holds([(size,)]) == (ops[relation](size, 10) == answer)


def test_a_guard_on_an_expression_of_a_size():
    env, (x,) = _graph_of((10,))
    assert x.shape[0] * 2 - 3 > 4
    guards = finalize(env, ir.Graph([x], [ir.reduce_sum(x, (0,), False)]))
    assert guards.holds([(4,)]) and not guards.holds([(3,)])


@given(
    a=st.integers(-3, 4),
    c=st.integers(-9, 9),
    q=st.integers(1, 5),
    k=st.integers(-3, 3),
    n=st.integers(1, 40),
)
def test_a_floor_division_of_sizes_is_pythons_in_value_print_and_form(a, c, q, k, n):
    s = sympy.Symbol("n", integer=True, positive=True)
    size = FloorDiv(a * s + c, q)
    assert size.xreplace({s: n}) == (a * n + c) // q
    assert eval(str(size), {"n": n}) == (a * n + c) // q  # printed as Python code
    assert FloorDiv(a * s + c + k * q, q) == size + k  # one form for equal sizes
    m = sympy.Symbol("m", integer=True, positive=True)
    assert FloorDiv(a * s * m + c * m, m) == a * s + c


def test_strided_sizes_stay_symbolic_after_finalize():
    env = SizeEnv()
    x = ir.Var((env.dim(0, 0, 5), env.dim(0, 1, 9)), F64)
    rows = (x.shape[1] - 3) // 2 + 1  # a strided window's count
    assert env.guards == [] and rows.hint == 4
    graph = ir.Graph([x], [ir.reduce_sum(x, (1,), False)])
    graph.outputs[0].shape = (rows,)
    finalize(env, graph)
    assert str(graph.outputs[0].shape[0]) == "((n_1 + 1) // 2) - 1"
    assert specialize(graph, {size_symbol(0): 5, size_symbol(1): 12}).outputs[0].shape == (5,)
