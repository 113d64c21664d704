"""Compiled functions trace once per rank/dtype/unit-dims: a new batch size costs no trace,
no compile and no new cache file, and stays right; code that reads sizes specialises."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

import symgrad as sg


def _model_and_step(seed=0, optimizer="adam"):
    sg.manual_seed(seed)
    model = sg.nn.Sequential(sg.nn.Linear(6, 8), sg.nn.Tanh(), sg.nn.Linear(8, 3))
    opt = (
        sg.optim.Adam(model.parameters(), lr=0.01)
        if optimizer == "adam"
        else sg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    )
    criterion = sg.nn.CrossEntropyLoss()

    def step(x, y):
        opt.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return model, step


def _batches(sizes, width=6, seed=1):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((n, width)), rng.integers(0, 3, n)) for n in sizes]


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_a_new_batch_size_reuses_the_kernel_and_trains_right(optimizer):
    sizes = [16, 16, 7, 16, 7, 3, 11]  # an epoch's last partial batches among full ones
    eager_model, eager_step = _model_and_step(optimizer=optimizer)
    model, step = _model_and_step(optimizer=optimizer)
    compiled = sg.compile(step)
    cache = os.environ["SYMGRAD_CACHE_DIR"]
    batches = _batches(sizes)
    # eager first: its own backward kernels must not count as the compiled step's files
    expected = [eager_step(sg.tensor(x), sg.tensor(y)).item() for x, y in batches]
    for k, (x, y) in enumerate(batches):
        assert compiled(x, y).item() == pytest.approx(expected[k], rel=1e-10)
        assert compiled.status() == "kernel"
        if k == 1:  # the first step built the optimizer's state: the second is traced anew
            files, traces = set(os.listdir(cache)), compiled.trace_count()
    assert compiled.trace_count() == traces
    assert set(os.listdir(cache)) == files  # no new kernel for any new size
    for p, q in zip(model.parameters(), eager_model.parameters(), strict=True):
        np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=1e-9, atol=1e-12)


def test_batch_and_width_of_equal_size_are_separate_symbols():
    f = sg.compile(lambda x, w: (x @ w).sum(1))
    w = np.ones((4, 2))
    assert f(np.ones((4, 4)), w).shape == (4,)
    assert f(np.ones((9, 4)), w).numpy().tolist() == [8.0] * 9
    assert f.trace_count() == 1


def test_gradients_match_torch_at_every_size():
    def loss(x, w):
        return ((x @ w).tanh() ** 2).mean() + x.var()

    g = sg.grad(loss, argnums=(0, 1))
    rng = np.random.default_rng(2)
    w = rng.standard_normal((3, 5))
    for n in (4, 9, 2):
        x = rng.standard_normal((n, 3))
        gx, gw = g(x, w)
        xt = torch.tensor(x, requires_grad=True)
        wt = torch.tensor(w, requires_grad=True)
        (((xt @ wt).tanh() ** 2).mean() + xt.var()).backward()
        np.testing.assert_allclose(gx.numpy(), xt.grad.numpy(), rtol=1e-10)
        np.testing.assert_allclose(gw.numpy(), wt.grad.numpy(), rtol=1e-10)
    assert g.trace_count() == 1


def test_view_with_a_size_read_from_the_input_stays_generic():
    f = sg.compile(lambda x: x.view(x.shape[0], -1).sum(1))
    for n in (3, 5):
        x = np.arange(n * 4.0).reshape(n, 2, 2)
        np.testing.assert_array_equal(f(x).numpy(), x.reshape(n, -1).sum(1))
    assert f.trace_count() == 1


def test_python_that_reads_a_size_as_a_number_specialises_and_stays_right():
    def f(x):
        total = x[0] * 0
        for i in range(x.shape[0]):  # unrolled at trace time: a guard pins the size
            total = total + x[i] * i
        return total

    compiled = sg.compile(f)
    for n in (3, 5, 3):
        x = np.arange(n * 2.0).reshape(n, 2)
        np.testing.assert_allclose(compiled(x).numpy(), sum(x[i] * i for i in range(n)))
    assert compiled.trace_count() == 2


def test_branching_on_a_size_retraces_across_the_branch():
    compiled = sg.compile(lambda x: x.sum() if x.shape[0] > 4 else -x.sum())
    assert compiled(np.ones(3)).item() == -3.0
    assert compiled(np.ones(4)).item() == -4.0  # same side of the branch: same trace
    assert compiled.trace_count() == 1
    assert compiled(np.ones(6)).item() == 6.0
    assert compiled.trace_count() == 2


def test_max_over_a_dim_and_its_indices_at_new_sizes():
    f = sg.compile(lambda x: x.max(dim=1).values * 2 + x.argmax(1))
    rng = np.random.default_rng(3)
    for n in (4, 7):
        x = rng.standard_normal((n, 5))
        np.testing.assert_allclose(f(x).numpy(), x.max(1) * 2 + x.argmax(1))
    assert f.trace_count() == 1


def test_labels_of_another_length_raise_instead_of_reading_past_the_end():
    _, step = _model_and_step()
    compiled = sg.compile(step)
    (x, y), (_, short) = _batches([8, 5])
    compiled(x, y)
    with pytest.raises(sg.errors.ShapeError):
        compiled(x, short)  # the signature's ranks and dtypes match; the sizes do not


def test_the_interpreter_tier_runs_every_size():
    f = sg.grad(lambda x: (x.exp() / x.shape[0]).sum() + x.mean(), tier="interpret")
    for n in (2, 6):
        x = np.linspace(0, 1, n)
        np.testing.assert_allclose(f(x).numpy(), np.exp(x) / n + 1 / n, rtol=1e-12)
    assert f.trace_count() == 1 and f.status() == "interpreter"


def test_no_size_mismatch_reads_out_of_bounds_in_a_fresh_process(tmp_path):
    # Run where a crash (a read past an array's end) fails the test instead of the suite.
    script = textwrap.dedent(
        """
        import numpy as np, symgrad as sg
        f = sg.compile(lambda a, b, i: (a * b).sum() + a[i].sum())
        f(np.ones(8), np.ones(8), np.array([7]))
        for a, b, i in [(np.ones(3), np.ones(3), np.array([2])),
                        (np.ones(3), np.ones(8), np.array([2])),
                        (np.ones(30), np.ones(30), np.array([29])),
                        (np.ones(3), np.ones(3), np.array([7]))]:
            try:
                print(float(f(a, b, i).item()))
            except (sg.errors.ShapeError, IndexError) as e:
                print(type(e).__name__)
        """
    )
    env = dict(os.environ, SYMGRAD_COMPILE="sync")
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["4.0", "ShapeError", "31.0", "IndexError"]


def test_arange_of_a_traced_size_counts_to_each_calls_size():
    f = sg.compile(lambda x: (x * sg.arange(x.shape[0])).sum())  # a position weighting
    for n in (4, 6):
        assert f(np.ones(n)).item() == n * (n - 1) / 2
    assert f.trace_count() == 1


def test_a_free_size_broadcast_against_a_pinned_one_is_pinned_too():
    # x is reshaped to constants (pinning its sizes); b meets x's first dim afterwards
    f = sg.value_and_grad(lambda x, b: (x.reshape(4, 3) * b.unsqueeze(1)).sum(), argnums=(0, 1))
    rng = np.random.default_rng(4)
    x, b = rng.standard_normal((4, 3)), rng.standard_normal(4)
    value, (gx, gb) = f(x, b)
    np.testing.assert_allclose(value.item(), (x * b[:, None]).sum())
    np.testing.assert_allclose(gx.numpy(), np.broadcast_to(b[:, None], (4, 3)))
    np.testing.assert_allclose(gb.numpy(), x.sum(1))


def test_guards_with_floor_division_are_checked_exactly():
    g = sg.compile(lambda x: x[:, sg.tensor(np.arange((x.shape[1] - 1) // 2 + 1)) * 2].sum(1))
    for width in (7, 9, 8):
        x = np.arange(3.0 * width).reshape(3, width)
        np.testing.assert_allclose(g(x).numpy(), x[:, ::2].sum(1))


def test_numpy_arrays_built_from_traced_sizes_become_tensors():
    g = sg.compile(lambda x: (x * sg.tensor(np.arange(x.shape[0]))).sum())
    assert [g(np.ones(n)).item() for n in (3, 4)] == [3.0, 6.0]


def test_a_slice_bound_read_from_a_traced_size_is_not_remembered_across_traces():
    mask = sg.ones(8, 8)
    f = sg.compile(lambda x: x * mask[: x.shape[0], : x.shape[0]])
    for n in (5, 8, 5, 3):
        np.testing.assert_array_equal(f(np.full((n, n), 2.0)).numpy(), np.full((n, n), 2.0))


def _sliced(x):
    """Slices of the batch dim (shifts, an int, negative bounds) and steps along the width."""
    shifted = x[1:] * x[:-1] - x[1:, None, 1:-1].sum(-1)
    return shifted[:-1] + x[-1, :-1].sum() + x[:, ::2].sum(1, keepdim=True)[2:]


@pytest.mark.parametrize("tier", ["sync", "interpret"])
def test_slices_of_a_batch_dim_keep_it_symbolic(tier):
    f = sg.compile(_sliced, tier=tier)
    grad = sg.value_and_grad(lambda x: (_sliced(x) ** 2).sum(), tier=tier)
    rng = np.random.default_rng(3)
    for n in (8, 13, 9):
        x = rng.standard_normal((n, 5))
        t = torch.tensor(x, requires_grad=True)
        expected = _sliced(t)
        np.testing.assert_allclose(f(x).numpy(), expected.detach().numpy(), rtol=1e-12)
        (expected**2).sum().backward()
        value, gx = grad(x)
        np.testing.assert_allclose(value.item(), (expected**2).sum().item(), rtol=1e-12)
        np.testing.assert_allclose(gx.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert f.trace_count() == 1 and grad.trace_count() == 1
    assert "n_0 - 2" in f.graph(x)  # the size of the result, an expression of the batch size


def test_a_step_along_a_batch_dim_stays_symbolic_and_right():
    f = sg.compile(lambda x: x[1::3] * 2, tier="sync")  # (n + 1) // 3 rows: a floor division
    grad = sg.grad(lambda x: (x[1::3] ** 2).sum() + x[::-2].sum(), tier="sync")
    for n in (8, 13, 9, 8, 2):
        x = np.arange(n * 2.0).reshape(n, 2)
        np.testing.assert_array_equal(f(x).numpy(), x[1::3] * 2)
        expected = np.zeros_like(x)
        expected[1::3] += 2 * x[1::3]
        expected[::-2] += 1
        np.testing.assert_array_equal(grad(x).numpy(), expected)
    assert f.trace_count() == 1 and grad.trace_count() == 1
    assert "((n_0 + 1) // 3)" in f.graph(np.ones((8, 2)))  # a size the kernel computes


def test_a_write_into_a_slice_keeps_the_batch_dim_symbolic():
    def f(x):
        y = x * 1
        y[1:] = y[:-1] * 2
        y[:, 0] += 1
        return (y**2).sum()

    grad = sg.value_and_grad(f)
    for n in (8, 13):
        x = np.random.default_rng(n).standard_normal((n, 5))
        t = torch.tensor(x, requires_grad=True)
        f(t).backward()
        value, gx = grad(x)
        np.testing.assert_allclose(value.item(), f(torch.tensor(x)).item(), rtol=1e-12)
        np.testing.assert_allclose(gx.numpy(), t.grad.numpy(), rtol=1e-10)
    assert grad.trace_count() == 1
