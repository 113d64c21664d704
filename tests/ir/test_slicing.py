"""Basic slices are strided views: bounds as Python computes them, symbolic sizes kept,
kernels that read through index arithmetic, and summed slice gradients merged."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest
import sympy
import torch

import symgrad as sg
from symgrad import ir
from symgrad.compiler.passes import merge_slice_adds
from symgrad.ir.primitives.slicing import region_numpy_key, slice_bounds, slice_key
from symgrad.ir.sizes import SizeEnv
from symgrad.runtime.interpreter import interpret

F64 = np.dtype(np.float64)


def _rosenbrock(x):
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


BOUNDS = [None, *range(-7, 8)]


@pytest.mark.parametrize("step", [None, 1, 2, 3, -1, -2, -3])
def test_bounds_select_what_python_selects(step):
    for size, start, stop in itertools.product(range(6), BOUNDS, BOUNDS):
        expected = list(range(size))[start:stop:step]
        first, step_, count = slice_bounds(size, start, stop, step)
        assert [first + step_ * i for i in range(count)] == expected, (size, start, stop)
        key = region_numpy_key(((first, step_, count),))
        assert np.arange(size)[key].tolist() == expected


def test_a_zero_step_is_an_error():
    with pytest.raises(ValueError, match="step cannot be zero"):
        slice_bounds(4, None, None, 0)
    with pytest.raises(ValueError, match="step cannot be zero"):
        sg.arange(4.0)[::0]


def test_bounds_of_a_symbolic_size_stay_symbolic():
    env = SizeEnv()
    n = env.dim(0, 0, 8)
    start, step, count = slice_bounds(n, 1, None, None)
    assert (start, step, count.expr) == (1, 1, n.expr - 1)
    start, _, count = slice_bounds(n, None, -1, None)
    assert (start, count.expr) == (0, n.expr - 1)
    assert env.guards == []  # n >= 2 always: nothing to remember
    start, _, count = slice_bounds(n, -3, None, None)
    assert (start.expr, count) == (n.expr - 3, 3)
    assert len(env.guards) == 1  # n >= 3, from the example size


def test_slice_key_shows_a_region_as_written():
    n = sympy.Symbol("n", integer=True, positive=True)
    key = slice_key(((0, 1, n - 1), (1, 1, 4), (2, 1, 1)), (n, 5, 4))
    assert key == (("slice", None, -1, None), ("slice", 1, None, None), ("slice", 2, 3, None))


def test_rosenbrock_value_and_gradient_is_one_loop_without_index_arrays():
    x = np.random.default_rng(0).standard_normal(50)
    step = sg.value_and_grad(_rosenbrock)
    source = step.source(x)
    assert source.count("for i0 in range(n_0 - 1):") == 1 and source.count("for ") == 1
    assert "np.empty" not in source and "np.full" not in source  # no temporaries
    # x[1:]'s contribution reaches each element first: stored with =, only out1[0] zeroed
    assert "out1[i0 + 1] = e_" in source and "out1[i0] += e_" in source
    assert "out1[0:1] = 0" in source and ".fill(" not in source
    assert "gather" not in step.graph(x) and "scatter" not in step.graph(x)

    t = torch.tensor(x, requires_grad=True)
    _rosenbrock(t).backward()
    value, grad = step(x)
    np.testing.assert_allclose(value.item(), _rosenbrock(t).item(), rtol=1e-12)
    np.testing.assert_allclose(grad.numpy(), t.grad.numpy(), rtol=1e-10)


def test_summed_slice_gradients_of_one_shape_merge_into_one_node():
    g1, g2 = ir.Var((4,), F64), ir.Var((4,), F64)
    h = ir.Var((3,), F64)
    pads = [
        ir.slice_add([g1], [((1, 1, 4),)], (5,)),
        ir.slice_add([g2], [((0, 1, 4),)], (5,)),
        ir.slice_add([h], [((0, 2, 3),)], (5,)),  # another shape: stays apart
    ]
    total = ir.elementwise(ir.arg(0) + ir.arg(1) + ir.arg(2), pads)
    graph = merge_slice_adds(ir.Graph([g1, g2, h], [total]))
    kinds = [node.op for node in graph.nodes]
    assert kinds.count("slice_add") == 2 and kinds[-1] == "elementwise"
    merged = next(n for n in graph.nodes if n.op == "slice_add" and len(n.inputs) == 2)
    assert merged.inputs == (g1, g2)

    values = [np.arange(4.0), np.arange(4.0) * 10, np.ones(3)]
    (out,) = interpret(graph, values)
    np.testing.assert_array_equal(out, [0 + 0 + 1, 0 + 10 + 0, 1 + 20 + 1, 2 + 30 + 0, 3 + 0 + 1])


def test_a_slice_read_by_a_structured_op_is_a_numpy_view_in_the_kernel():
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((6, 4)), rng.standard_normal((3, 2))

    def f(x, w):
        return ((x[1:, ::-1][::2, 1:] @ w) ** 2).sum()

    grads = sg.grad(f, argnums=(0, 1))
    source = grads.source(x, w)
    # one view (a slice of a slice, its rows counted from the array's), read by BLAS
    assert "x[1:2*(n_0 // 2):2, 0:3][:, ::-1]" in source
    # the transpose of a strided view (in the gradient) goes to BLAS as a contiguous copy
    strided_transposes = re.findall(r"(\w+) = v_\w+\.T$", source, re.MULTILINE)
    assert strided_transposes
    for name in strided_transposes:
        assert not re.search(rf"sg_gemm\([^)]*\b{name}\b,", source.replace(f"({name})", ""))
    gx, gw = grads(x, w)

    tx = torch.tensor(x, requires_grad=True)
    tw = torch.tensor(w, requires_grad=True)
    ((tx[1:].flip(1)[::2, 1:] @ tw) ** 2).sum().backward()
    np.testing.assert_allclose(gx.numpy(), tx.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(gw.numpy(), tw.grad.numpy(), rtol=1e-10)


def test_eager_slices_are_views_sharing_the_version_counter():
    x = sg.tensor(np.arange(6.0), requires_grad=True) * 1
    y = x[1:]
    assert y.numpy().base is not None
    x.numpy()[1] = 7.0  # NumPy writes through the view, as a PyTorch view sees its base
    assert y[0].item() == 7.0
    assert y._version is x._version
