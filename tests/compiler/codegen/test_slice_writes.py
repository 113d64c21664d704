"""Slice gradients stored with ``=`` where one region reaches its elements first, with zeros
only outside it: the order rule and the slabs checked by brute force, and the kernels'
gradients against PyTorch for shifts, steps, flips, several dims and symbolic sizes."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest
import sympy
import torch

import symgrad as sg
from symgrad.compiler.codegen.slice_writes import first_writer_of, outside, writes_first
from symgrad.ir.primitives.slicing import region_numpy_key, slice_bounds

N = sympy.Symbol("n_0", integer=True, positive=True)


def _reach_times(region, counts):
    """Element -> loop index at which ``region`` reaches it, looping over ``counts``."""
    times = {}
    for index in np.ndindex(*counts):
        where = tuple(start + step * i for (start, step, _), i in zip(region, index, strict=True))
        times[where] = index
    return times


def _random_region(rng, counts):
    return tuple(
        (int(rng.integers(-2, 9)), int(rng.choice([-3, -2, -1, 1, 2, 3])), c) for c in counts
    )


@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_writes_first_only_when_the_loop_reaches_every_shared_element_first(ndim):
    rng = np.random.default_rng(ndim)
    said = {True: 0, False: 0}
    for _ in range(3000):
        counts = tuple(int(c) for c in rng.integers(0, 5, ndim))
        first, other = _random_region(rng, counts), _random_region(rng, counts)
        if rng.random() < 0.5:  # same steps: the common case, where the rule decides
            other = tuple((s, f[1], c) for (s, _, c), f in zip(other, first, strict=True))
        answer = writes_first(first, other)
        said[answer] += 1
        if answer:
            mine, theirs = _reach_times(first, counts), _reach_times(other, counts)
            for element in mine.keys() & theirs.keys():
                assert mine[element] <= theirs[element], (first, other, element)
    assert said[True] > 300 and said[False] > 300  # both answers are exercised


def test_writes_first_with_symbolic_starts_and_counts():
    ahead, behind = ((1, 1, N - 1),), ((0, 1, N - 1),)  # x[1:] and x[:-1]
    assert writes_first(ahead, behind) and not writes_first(behind, ahead)
    flipped = ((N - 1, -1, N - 1),)  # x[:0:-1]
    assert writes_first(((N - 2, -1, N - 1),), flipped)  # x[-2::-1] meets each one sooner
    assert not writes_first(flipped, ((N - 2, -1, N - 1),))
    assert not writes_first(((0, 1, N - 1),), ((N - 1, -1, N - 1),))  # steps differ
    assert not writes_first(((0, 1, 3),), ((N - 3, 1, 3),))  # offset unknown
    assert writes_first(((0, 1, 3),), ((4, 1, 3),))  # too far apart to meet
    assert writes_first(((2, 5, 1), (0, 1, N)), ((4, 1, 1), (1, 1, N)))  # rows differ


def test_first_writer_is_a_box_that_writes_before_all_others():
    stencil = [((0, 1, N - 2),), ((1, 1, N - 2),), ((2, 1, N - 2),)]
    assert first_writer_of(stencil) == 2
    assert first_writer_of([((0, 2, 3),), ((1, 2, 3),)]) is None  # strided: not a box
    assert first_writer_of([((0, 1, 3),), ((N - 3, 1, 3),)]) is None


def _random_box(rng, shape):
    region = []
    for size in shape:
        start, stop = (int(b) if b is not None else None for b in rng.integers(-7, 8, 2))
        step = int(rng.choice([1, -1])) if rng.random() < 0.8 else int(rng.choice([2, -3]))
        dim = slice_bounds(size, start, stop, step)
        region.append(dim if abs(step) == 1 or dim[2] == 1 else slice_bounds(size, 0, 1, step))
    return tuple(region)


def _check_slabs(slabs, inside_key, shape, names=None):
    hits = np.zeros(shape, np.int64)
    for slab in slabs:
        view = eval(f"hits[{slab}]", {"hits": hits, **(names or {})})
        view += 1
    inside = np.zeros(shape, bool)
    inside[inside_key] = True
    np.testing.assert_array_equal(hits, (~inside).astype(np.int64), err_msg=str(slabs))


@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_slabs_outside_a_box_cover_its_complement_once(ndim):
    rng = np.random.default_rng(10 + ndim)
    for _ in range(400):
        shape = tuple(int(n) for n in rng.integers(0, 6, ndim))
        region = _random_box(rng, shape)
        _check_slabs(outside(region, shape), region_numpy_key(region), shape)


@pytest.mark.parametrize(
    "region",
    [
        ((1, 1, N - 1),),  # x[1:]
        ((0, 1, N - 1),),  # x[:-1]
        ((N - 1, -1, N - 1),),  # x[:0:-1]
        ((N - 2, -1, N - 1),),  # x[-2::-1]
        ((1, 1, N - 2),),  # x[1:-1]
    ],
)
def test_slabs_with_symbolic_sizes_hold_for_every_size(region):
    for n in range(1, 8):
        concrete = tuple(tuple(int(sympy.sympify(v).subs(N, n)) for v in d) for d in region)
        if concrete[0][2] < 0:
            continue  # no array of this size has this slice
        slabs = outside(region, (N,))
        _check_slabs(slabs, region_numpy_key(concrete), (n,), {"n_0": n})


# --- kernels against PyTorch -------------------------------------------------------------


def _stencil(m, x):
    return (x[2:] * x[1:-1] + m.sin(x[:-2]) * x[1:-1] ** 2).sum()


def _grid(m, x):
    return (x[1:, :-1] * x[:-1, 1:] ** 2 + m.tanh(x[1:, 1:]) * x[:-1, :-1]).sum()


def _columns(m, x):
    return ((x[:, 1:] - x[:, :-1] ** 2) ** 2 + (1 - x[:, :-1]) ** 2).sum()


def _cube(m, x):
    return (x[1:, :-1, 1:] * m.cos(x[:-1, 1:, :-1]) + x[1:, 1:, :-1] ** 3).sum()


def _single_rows(m, x):
    return (x[1:2] * x[3:4] + x[1:2] ** 2 * x[2:3]).sum()


def _through_sin(m, x):
    s = m.sin(x)
    return (s[1:] * s[:-1] ** 2).sum()


def _flipped(m, x):  # x[:0:-1] * x[-2::-1] ** 2, with torch's flip for the negative steps
    if m is torch:
        return (x[1:].flip(0) * x[:-1].flip(0) ** 2).sum()
    return (x[:0:-1] * x[-2::-1] ** 2).sum()


def _torch_grad(fn, x):
    t = torch.tensor(x, requires_grad=True)
    value = fn(torch, t)
    value.backward()
    return value.item(), t.grad.numpy()


CASES = {
    "stencil": (_stencil, [(9,), (4,), (17,)]),
    "grid": (_grid, [(5, 6), (2, 3), (7, 2)]),
    "columns": (_columns, [(3, 8), (1, 2)]),
    "cube": (_cube, [(3, 4, 5), (2, 2, 2)]),
    "single rows": (_single_rows, [(5, 3), (6, 1)]),
    "through sin": (_through_sin, [(8,), (3,)]),
    "flipped": (_flipped, [(7,), (2,)]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_slice_gradients_agree_with_pytorch_at_every_size(name):
    fn, shapes = CASES[name]
    step = sg.value_and_grad(lambda x: fn(sg, x))
    rng = np.random.default_rng(3)
    for shape in shapes:  # one trace for the symbolic sizes, reused by the later shapes
        x = rng.standard_normal(shape)
        value, grad = step(x)
        expected_value, expected_grad = _torch_grad(fn, x)
        np.testing.assert_allclose(value.item(), expected_value, rtol=1e-12)
        np.testing.assert_allclose(grad.numpy(), expected_grad, rtol=1e-10, atol=1e-12)


def _gradient_buffer_lines(source: str) -> list[str]:
    return [line.strip() for line in source.splitlines() if re.match(r"\s*out1\[", line)]


@pytest.mark.parametrize("name", ["stencil", "grid", "columns", "cube", "flipped"])
def test_the_gradient_is_stored_not_zeroed_then_added(name):
    fn, shapes = CASES[name]
    source = sg.value_and_grad(lambda x: fn(sg, x)).source(np.ones(shapes[0]))
    stores = _gradient_buffer_lines(source)
    assert ".fill(" not in source
    assert any(re.match(r"out1\[[^\]]*i0[^\]]*\] = e_", s) for s in stores), stores
    assert any(s.endswith("] = 0") for s in stores), stores  # the slabs outside it


def test_the_rest_of_a_stencil_is_added_after_the_first_store():
    source = sg.value_and_grad(lambda x: _stencil(sg, x)).source(np.ones(9))
    stores = _gradient_buffer_lines(source)
    assert stores[:1] == ["out1[0:2] = 0"]
    first = next(k for k, s in enumerate(stores) if s.startswith("out1[i0 + 2] = "))
    added = [s for s in stores if "+=" in s]
    assert len(added) == 2 and all(stores.index(s) > first for s in added)


def test_an_intermediate_slice_gradient_gets_an_empty_array_and_its_slabs():
    source = sg.value_and_grad(lambda x: _through_sin(sg, x)).source(np.ones(8))
    assert "np.full" not in source and re.search(r"(\w+) = np\.empty", source)
    assert re.search(r"\w+\[0:1\] = 0", source)


def test_strided_disjoint_slices_keep_the_zero_fill_and_stay_right():
    x = np.random.default_rng(4).standard_normal(10)

    def f(x):
        return (x[::2] * x[1::2] ** 2).sum()

    step = sg.value_and_grad(f)
    assert ".fill(0)" in step.source(x)
    t = torch.tensor(x, requires_grad=True)
    f(t).backward()
    np.testing.assert_allclose(step(x)[1].numpy(), t.grad.numpy(), rtol=1e-12)


def test_eager_backward_accumulates_slice_gradients_into_grad():
    rng = np.random.default_rng(5)
    x = rng.standard_normal(12)
    w = sg.tensor(x, requires_grad=True)
    t = torch.tensor(x, requires_grad=True)
    for _ in range(4):  # a repeated structure gets a kernel; the later calls accumulate
        _stencil(sg, w).backward()
        _stencil(torch, t).backward()
        np.testing.assert_allclose(w.grad.numpy(), t.grad.numpy(), rtol=1e-10)


def test_repeated_slices_combine_in_every_order():
    x = np.random.default_rng(6).standard_normal((4, 5))
    slices = [(slice(1, None), slice(None, -1)), (slice(None, -1), slice(1, None))]
    slices += [(slice(1, None), slice(1, None)), (slice(None, -1), slice(None, -1))]
    for order in itertools.permutations(range(3)):

        def f(m, x, order=order):
            a, b, c = (x[slices[k]] for k in order)
            return (a * b**2 + m.sin(c) * a).sum()

        value, grad = sg.value_and_grad(lambda x, f=f: f(sg, x))(x)
        expected_value, expected_grad = _torch_grad(f, x)
        np.testing.assert_allclose(value.item(), expected_value, rtol=1e-12)
        np.testing.assert_allclose(grad.numpy(), expected_grad, rtol=1e-10, atol=1e-12)
