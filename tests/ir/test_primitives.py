"""Every structured primitive keeps its own rules consistent with each other.

One shared helper per rule: the shape rule agrees with the NumPy evaluation, the
generated kernel computes what the NumPy evaluation computes, and the VJP agrees
with central finite differences of the NumPy evaluation.  A new primitive gets all
three checks by adding one case below; the registry test fails until it does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import sympy

from symgrad import ir
from symgrad.compiler import autodiff
from symgrad.compiler.build import build
from symgrad.errors import ShapeError
from symgrad.formulas import composites
from symgrad.ir.primitives.concat import ConcatParams
from symgrad.ir.primitives.conv import ConvInputGradParams, ConvParams, ConvWeightGradParams
from symgrad.ir.primitives.indexing import GatherParams, ScatterAddParams
from symgrad.ir.primitives.permute import PermuteParams
from symgrad.runtime.interpreter import interpret

F64 = np.dtype(np.float64)
I64 = np.dtype(np.int64)
EVERY_OTHER_ROW = ("slice", 1, None, 2)
INDEX_0 = ("array", 0)
POOL = ir.PoolParams((3, 2), (2, 1), (1, 1), (1, 2), True)


@dataclass(frozen=True)
class Case:
    primitive: ir.Primitive
    params: Any
    inputs: tuple  # arrays: float inputs are differentiated, int ones are index arrays


def _floats(*shape, seed=0):
    return np.random.default_rng(seed + len(shape)).standard_normal(shape)


CASES = [
    Case(ir.SUM, ir.ReduceParams((1,), False), (_floats(2, 3),)),
    Case(ir.SUM, ir.ReduceParams((0, 2), True), (_floats(2, 3, 4),)),
    Case(ir.RESHAPE, ir.ReshapeParams((3, 2)), (_floats(2, 3),)),
    Case(ir.MAX, ir.ReduceParams((0,), True), (_floats(3, 4),)),
    Case(ir.MIN, ir.ReduceParams((1,), False), (_floats(3, 4),)),
    Case(ir.ARGMAX, ir.ArgParams(1, False), (_floats(3, 4),)),
    Case(ir.ARGMIN, ir.ArgParams(None, True), (_floats(3, 4),)),
    Case(ir.PERMUTE, PermuteParams((2, 0, 1)), (_floats(2, 3, 4),)),
    Case(ir.MATMUL, None, (_floats(2, 3), _floats(3, 4, seed=1))),
    Case(ir.MATMUL, None, (_floats(2, 2, 3), _floats(3, 4, seed=1))),
    Case(ir.CONCAT, ConcatParams(1), (_floats(2, 3), _floats(2, 1, seed=1))),
    Case(
        ir.GATHER,
        GatherParams((EVERY_OTHER_ROW, INDEX_0)),
        (_floats(5, 4), np.array([3, 0, 3, -1])),
    ),
    Case(
        ir.SCATTER_ADD,
        ScatterAddParams((EVERY_OTHER_ROW, INDEX_0), (5, 4)),
        (_floats(2, 4), np.array([3, 0, 3, -1])),
    ),
    Case(ir.IOTA, ir.IotaParams(5), ()),
    # rows 1, 3 (step 2); columns 3, 1 (a negative step)
    Case(ir.SLICE, ir.SliceParams(((1, 2, 2), (3, -2, 2))), (_floats(5, 4),)),
    Case(ir.SLICE, ir.SliceParams(((2, 1, 0), (0, 1, 4))), (_floats(5, 4),)),  # empty
    Case(
        ir.SLICE_ADD,
        ir.SliceAddParams((4, 3), (((1, 1, 3), (0, 2, 2)), ((0, 1, 3), (2, -1, 2)))),
        (_floats(3, 2), _floats(3, 2, seed=1)),
    ),
    # stride 2, asymmetric padding, dilation, 2 groups; then 1-D
    Case(
        ir.CONV,
        ConvParams((2, 1), (1, 0), (2, 1), (1, 2), 2),
        (_floats(2, 4, 5, 6), _floats(4, 2, 2, 2, seed=1)),
    ),
    Case(ir.CONV, ConvParams((1,), (0,), (0,), (1,)), (_floats(2, 3, 6), _floats(2, 3, 3, seed=1))),
    Case(
        ir.CONV_INPUT_GRAD,
        ConvInputGradParams(ConvParams((2, 1), (1, 0), (2, 1), (1, 2), 2), (5, 6)),
        (_floats(2, 4, 4, 5), _floats(4, 2, 2, 2, seed=1)),
    ),
    Case(
        ir.CONV_WEIGHT_GRAD,
        ConvWeightGradParams(ConvParams((2, 1), (1, 0), (2, 1), (1, 2), 2), (2, 2)),
        (_floats(2, 4, 5, 6), _floats(2, 4, 4, 5, seed=1)),
    ),
    # overlapping windows, padding, dilation, ceil_mode; the gradient and its gradient
    Case(ir.MAX_POOL, POOL, (_floats(2, 3, 6, 7),)),
    Case(ir.MAX_POOL, ir.PoolParams((3,), (2,), (1,), (1,), True), (_floats(2, 2, 8),)),
    Case(ir.MAX_POOL_INDICES, POOL, (_floats(2, 3, 6, 7),)),
    Case(ir.MAX_POOL_GRAD, POOL, (_floats(2, 3, 6, 7), _floats(2, 3, 4, 7, seed=1))),
    Case(ir.MAX_POOL_PICK, POOL, (_floats(2, 3, 6, 7), _floats(2, 3, 6, 7, seed=1))),
    # formula-only composites: evaluated and differentiated, never compiled
    Case(composites.SOFTMAX, composites.AxisParams(1), (_floats(3, 4),)),
    Case(composites.LOG_SOFTMAX, composites.AxisParams(0), (_floats(3, 4),)),
    Case(composites.VARIANCE, composites.NormParams((0, 2), 1e-5), (_floats(2, 3, 4),)),
    Case(composites.STANDARDIZE, composites.NormParams((1,), 1e-5), (_floats(3, 4),)),
    Case(composites.STANDARDIZE, composites.NormParams((0, 2), 0.5), (_floats(2, 3, 4),)),
]
IDS = [f"{c.primitive.name}-{i}" for i, c in enumerate(CASES)]


def _input_vars(case: Case) -> list[ir.Var]:
    return [ir.Var(a.shape, a.dtype) for a in case.inputs]


def test_every_registered_primitive_has_a_case_and_its_rules():
    structured = {p for p in ir.PRIMITIVES.values() if p is not ir.ELEMENTWISE}
    assert structured == {c.primitive for c in CASES}
    base = ir.Primitive
    for p in structured:
        assert type(p).shape_rule is not base.shape_rule, p
        assert type(p).evaluate is not base.evaluate, p
        if p.schedule not in (ir.Schedule.REDUCTION, ir.Schedule.ELEMENTWISE):
            assert type(p).emit is not base.emit, p
        if p.differentiable:
            assert type(p).vjp is not base.vjp, p


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_shape_rule_matches_numpy_evaluation(case):
    shape, dtype = case.primitive.shape_rule(case.params, *_input_vars(case))
    value = case.primitive.evaluate(case.params, *case.inputs)
    assert (tuple(shape), np.dtype(dtype)) == (value.shape, value.dtype)


COMPILED = [(c, i) for c, i in zip(CASES, IDS, strict=True) if not c.primitive.formula_only]


@pytest.mark.parametrize("case", [c for c, _ in COMPILED], ids=[i for _, i in COMPILED])
def test_kernel_matches_numpy_evaluation(case):
    inputs = _input_vars(case)
    out = case.primitive.bind(inputs, case.params)
    kernel = build(ir.Graph(inputs, [out]), ["write"], [f"x{i}" for i in range(len(inputs))])
    result = np.empty(out.shape, out.dtype)
    kernel(*case.inputs, result)
    np.testing.assert_allclose(result, case.primitive.evaluate(case.params, *case.inputs))


def _central_differences(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += eps
        down[i] -= eps
        grad[i] = (f(up) - f(down)) / (2 * eps)
    return grad


DIFFERENTIABLE = [(c, i) for c, i in zip(CASES, IDS, strict=True) if c.primitive.differentiable]


@pytest.mark.parametrize("case", [c for c, _ in DIFFERENTIABLE], ids=[i for _, i in DIFFERENTIABLE])
def test_vjp_matches_finite_differences(case):
    inputs = _input_vars(case)
    out = case.primitive.bind(inputs, case.params)
    cotangent = ir.Var(out.shape, out.dtype)
    ct_value = np.random.default_rng(7).standard_normal(out.shape)
    floats = [v for v in inputs if v.dtype == F64]
    grads = autodiff.vjp([out], [cotangent], floats)
    # no gradient (None) means zero: max_pool_grad's with respect to the pooled input
    wrt = [v for v, g in zip(floats, grads, strict=True) if g is not None]
    grads = [g for g in grads if g is not None]
    graph = ir.Graph([*inputs, cotangent], grads)
    if case.primitive.formula_only:  # its gradient graph holds formula-only nodes too
        buffers = interpret(graph, [*case.inputs, ct_value])
    else:
        names = [f"x{i}" for i in range(len(graph.inputs))]
        kernel = build(graph, ["write"] * len(grads), names)
        buffers = [np.empty(v.shape, v.dtype) for v in wrt]
        kernel(*case.inputs, ct_value, *buffers)
    buffers = list(buffers)
    for k, var in enumerate(floats):
        if var not in wrt:
            buffers.insert(k, np.zeros(var.shape))

    for k, var in enumerate(floats):
        position = inputs.index(var)

        def loss(x, position=position):
            args = list(case.inputs)
            args[position] = x
            return float(np.sum(case.primitive.evaluate(case.params, *args) * ct_value))

        expected = _central_differences(loss, case.inputs[position])
        np.testing.assert_allclose(buffers[k], expected, rtol=1e-6, atol=1e-8)


def test_shape_rules_accept_symbolic_sizes():
    n = sympy.Symbol("n", integer=True, positive=True)
    x = ir.Var((n, 3), F64)
    assert ir.SUM.shape_rule(ir.ReduceParams((1,), True), x)[0] == (n, 1)
    assert ir.MAX.shape_rule(ir.ReduceParams((0,), False), x)[0] == (3,)
    assert ir.RESHAPE.shape_rule(ir.ReshapeParams((3, n)), x)[0] == (3, n)
    assert ir.PERMUTE.shape_rule(PermuteParams((1, 0)), x)[0] == (3, n)
    assert ir.MATMUL.shape_rule(None, x, ir.Var((3, 4), F64))[0] == (n, 4)
    assert ir.CONCAT.shape_rule(ConcatParams(0), x, ir.Var((n - 1, 3), F64))[0] == (2 * n - 1, 3)
    conv = ConvParams((2, 1), (1, 1), (1, 1), (1, 1), 2)
    image, weight = ir.Var((n, 4, 7, 5), F64), ir.Var((6, 2, 3, 3), F64)
    assert ir.CONV.shape_rule(conv, image, weight)[0] == (n, 6, 4, 5)
    grad = ir.Var((n, 6, 4, 5), F64)
    assert ir.CONV_INPUT_GRAD.shape_rule(ConvInputGradParams(conv, (7, 5)), grad, weight)[0] == (
        n,
        4,
        7,
        5,
    )
    pool = ir.PoolParams((3, 3), (1, 2), (1, 0), (2, 1), True)  # stride 1: no floor
    m = sympy.Symbol("m", integer=True, positive=True)
    assert ir.MAX_POOL.shape_rule(pool, ir.Var((n, 4, m, 9), F64))[0] == (n, 4, m - 2, 4)
    for k, pad in ((3, 1), (2, 1), (4, 2)):  # stride 2, ceil_mode: what concrete sizes give
        pool = ir.PoolParams((k,), (2,), (pad,), (1,), True)
        size = ir.MAX_POOL.shape_rule(pool, ir.Var((n, 4, m), F64))[0][2]
        for v in range(k, 12):
            assert size.subs(m, v) == ir.MAX_POOL.shape_rule(pool, ir.Var((1, 1, v), F64))[0][2]
    params = ConvWeightGradParams(conv, (3, 3))
    assert ir.CONV_WEIGHT_GRAD.shape_rule(params, image, grad)[0] == (6, 2, 3, 3)
    with pytest.raises(ShapeError):
        ir.CONV.shape_rule(conv, ir.Var((n, 3, 7, 5), F64), weight)
    with pytest.raises(ShapeError):
        ir.RESHAPE.shape_rule(ir.ReshapeParams((n, 4)), x)
