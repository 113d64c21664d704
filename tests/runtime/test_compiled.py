"""Compiled mode: signatures, argument kinds, captured tensors, source/graph, errors."""

from __future__ import annotations

import numpy as np
import pytest

import symgrad as sg


def test_compile_bare_and_called():
    @sg.compile
    def f(a, b):
        return 3 * a**3 - b**2

    g = sg.compile()(lambda a, b: 3 * a**3 - b**2)
    a, b = np.array([2.0, 3.0]), np.array([6.0, 4.0])
    assert f(a, b).numpy().tolist() == [-12.0, 65.0]
    assert g(a, b).numpy().tolist() == [-12.0, 65.0]


def test_traces_once_per_signature():
    calls = []

    @sg.compile
    def f(x):
        calls.append(1)
        return x * 2

    f(np.ones(3))
    f(np.zeros(3))
    f(sg.ones(3))
    assert f.trace_count() == 1 and len(calls) == 1
    assert f(np.ones(4)).numpy().tolist() == [2.0] * 4  # another size: the same trace
    assert f.trace_count() == 1 and len(calls) == 1
    f(np.ones(3, np.float32))  # another dtype
    f(np.ones(1))  # a dim of size 1 broadcasts: another trace
    f(np.ones((3, 3)))  # another rank
    assert f.trace_count() == 4 and len(calls) == 4


def test_accepts_tensors_arrays_and_python_scalars():
    f = sg.compile(lambda x, s: x * s + 1)
    out = f(sg.tensor([1.0, 2.0]), 3.0)
    assert isinstance(out, sg.Tensor)
    assert out.numpy().tolist() == [4.0, 7.0]
    assert f(np.array([1.0, 2.0]), 2).numpy().tolist() == [3.0, 5.0]
    # a list is a pytree (as in JAX): a list of leaves, not an array
    assert sg.compile(lambda xs: xs[0] + xs[1])([1.0, 2.0]).item() == 3.0


def test_returns_tuples_and_lists():
    f = sg.compile(lambda x: (x + 1, x.sum()))
    first, total = f(np.array([1.0, 2.0]))
    assert first.numpy().tolist() == [2.0, 3.0] and total.item() == 3.0
    assert isinstance(sg.compile(lambda x: [x, x])(np.ones(1)), list)


def test_closed_over_tensor_is_read_at_call_time():
    w = sg.tensor([1.0, 2.0])
    f = sg.compile(lambda x: x * w)
    assert f(np.ones(2)).numpy().tolist() == [1.0, 2.0]
    w.numpy()[:] = [5.0, 6.0]
    assert f(np.ones(2)).numpy().tolist() == [5.0, 6.0]


def test_grad_argnums_int_and_tuple():
    f = lambda a, b: (a * b).sum()  # noqa: E731
    a, b = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    assert sg.grad(f)(a, b).numpy().tolist() == [3.0, 4.0]
    assert sg.grad(f, argnums=1)(a, b).numpy().tolist() == [1.0, 2.0]
    ga, gb = sg.grad(f, argnums=(0, 1))(a, b)
    assert gb.numpy().tolist() == [1.0, 2.0]
    value, (ga, gb) = sg.value_and_grad(f, argnums=(0, 1))(a, b)
    assert value.item() == 11.0 and ga.numpy().tolist() == [3.0, 4.0]


def test_source_and_graph_are_readable():
    f = sg.grad(lambda a, b: (3 * a**3 - b**2).sum(), argnums=(0, 1))
    source = f.source(np.ones(5), np.ones(5))
    assert "@njit(cache=True" in source
    assert "# t0 = 9*a**2" in source
    code = [line for line in source.split("def kernel")[1].splitlines() if "#" not in line]
    assert not any("**" in line for line in code)  # integer powers became products
    graph = f.graph(np.ones(5), np.ones(5))
    assert graph.startswith("{ lambda a:f64[n_0] b:f64[n_0] .")  # any size, both the same
    assert "9*a**2" in graph


def test_control_flow_on_traced_value_raises_trace_error():
    def f(x):
        if x.sum() > 0:
            return x
        return -x

    with pytest.raises(sg.errors.TraceError, match=r"sg\.where"):
        sg.compile(f)(np.ones(2))


def test_grad_needs_scalar_output():
    with pytest.raises(sg.errors.GradError, match=r"shape \(3,\)"):
        sg.grad(lambda x: x * 2)(np.ones(3))


def test_grad_of_integer_argument_is_refused():
    with pytest.raises(sg.errors.GradError, match="int64"):
        sg.grad(lambda x, n: (x * n).sum(), argnums=1)(np.ones(2), np.array([1, 2]))


def test_detach_stops_gradient_in_compiled_mode():
    grad = sg.grad(lambda x: (x * x.detach()).sum())
    np.testing.assert_array_equal(grad(np.array([1.0, 3.0])).numpy(), [1.0, 3.0])


def test_argument_names_do_not_collide():
    f = sg.compile(lambda x1, *rest: x1 + rest[0] + rest[1])
    assert f(np.ones(1), np.ones(1), np.ones(1)).numpy().tolist() == [3.0]


def test_concurrent_first_calls_are_right_in_every_thread():
    import threading

    f = sg.compile(lambda a, b: (sg.tanh(a) * b).sum())
    a, b = np.linspace(-1, 1, 6), np.linspace(0, 2, 6)
    expected = float((np.tanh(a) * b).sum())
    results, errors = [], []

    def work():
        try:
            for _ in range(50):
                results.append(f(a, b).item())
        except Exception as error:  # collected: a failure in a thread must fail the test
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(results) == 200
    np.testing.assert_allclose(results, expected, rtol=1e-12)
    assert f.trace_count() == 1


def test_transforms_compose():
    import torch

    assert sg.grad(sg.grad(lambda x: x**4))(1.0).item() == 12.0
    third = sg.grad(sg.grad(sg.grad(lambda x: sg.sin(x) * x**3)))(0.7).item()
    x = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    (g1,) = torch.autograd.grad(torch.sin(x) * x**3, x, create_graph=True)
    (g2,) = torch.autograd.grad(g1, x, create_graph=True)
    (g3,) = torch.autograd.grad(g2, x)
    np.testing.assert_allclose(third, g3.item(), rtol=1e-12)

    f = sg.compile(lambda v: (v * v).sum())
    np.testing.assert_array_equal(sg.grad(f)(np.array([1.0, 2.0])).numpy(), [2.0, 4.0])
    assert sg.compile(lambda v: f(v) * 2)(np.array([1.0, 3.0])).item() == 20.0
    a = sg.tensor([1.0, 2.0], requires_grad=True)
    f(a).backward()  # a compiled function's output is differentiable in eager mode
    np.testing.assert_array_equal(a.grad.numpy(), [2.0, 4.0])
    inner = sg.value_and_grad(lambda y: (y**3).sum())
    outer = sg.grad(lambda v: inner(v)[1].sum())
    np.testing.assert_array_equal(outer(np.array([1.0, 2.0])).numpy(), [6.0, 12.0])


def test_retracing_for_new_shapes_keeps_symgrads_own_memory_small(monkeypatch):
    import gc
    import tracemalloc

    monkeypatch.setenv("SYMGRAD_COMPILE", "interpret")
    # int() of a size specialises the trace to it: every size is a new trace
    f = sg.compile(lambda x: (sg.tanh(x) * x).sum() * int(x.shape[0]))
    for n in range(1, 20):
        f(np.ones(n))
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        for n in range(20, 120):
            f(np.ones(n))
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    growth = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    assert f.trace_count() == 119
    assert growth / 100 < 50_000  # bytes per retrace
