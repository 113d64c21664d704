"""The tiers: interpreter at once, kernel compiled by a worker, the switch between them."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import symgrad as sg
from symgrad.runtime import worker_pool
from symgrad.runtime.eager_backward import plan_count


@pytest.fixture
def cold_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMGRAD_CACHE_DIR", str(tmp_path))
    return tmp_path


def _wait_for(f, state: str, args=None, timeout: float = 120.0) -> None:
    """Call ``f`` (as a training loop would) until it runs on ``state``."""
    deadline = time.monotonic() + timeout
    while f.status() != state:
        assert time.monotonic() < deadline, f"still {f.status()!r} after {timeout} s"
        time.sleep(0.05)
        if args is not None:
            f(*args)


def _loss(a, b):
    return (sg.tanh(a * b) * a + b**3).sum()


ARGS = (np.linspace(-1.0, 1.0, 7), np.linspace(0.5, 2.0, 7))


def test_background_answers_at_once_and_switches_to_the_kernel(cold_cache):
    reference = sg.value_and_grad(_loss, argnums=(0, 1), tier="sync")(*ARGS)
    f = sg.value_and_grad(_loss, argnums=(0, 1), tier="background")
    first = f(*ARGS)
    assert f.status() in ("compiling in background", "kernel")
    _wait_for(f, "kernel", ARGS)
    after = f(*ARGS)
    for result in (first, after):
        np.testing.assert_allclose(result[0].numpy(), reference[0].numpy(), rtol=1e-12)
        for got, want in zip(result[1], reference[1], strict=True):
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12, atol=1e-14)
    assert any(p.name.endswith(".nbi") for p in (cold_cache / "__pycache__").iterdir())


def test_interpret_tier_never_compiles(cold_cache):
    f = sg.compile(lambda a: (a * a).sum(), tier="interpret")
    assert f(np.arange(3.0)).item() == 5.0
    assert f.status() == "interpreter"
    assert "def kernel" in f.source(np.arange(3.0))  # the source is still there to read
    assert not list(cold_cache.glob("k_*.py"))


@pytest.mark.parametrize(
    ("script", "reason"),
    [
        ("raise SystemExit(3)\n", "exit status 3"),
        ("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n", "exit status -9"),
        ("raise RuntimeError('no compiler here')\n", "no compiler here"),
    ],
    ids=["fails", "killed", "raises"],
)
def test_a_failed_build_warns_and_stays_on_the_interpreter(
    cold_cache, tmp_path, monkeypatch, script, reason
):
    broken = tmp_path / "broken_worker.py"
    broken.write_text(script)
    monkeypatch.setattr(worker_pool, "WORKER_SCRIPT", broken)
    f = sg.value_and_grad(_loss, argnums=(0, 1), tier="background")
    with pytest.warns(RuntimeWarning, match=reason):
        value, _ = f(*ARGS)
        _wait_for(f, "interpreter", ARGS)
    expected = sg.value_and_grad(_loss, argnums=(0, 1), tier="sync")(*ARGS)[0]
    np.testing.assert_allclose(f(*ARGS)[0].numpy(), expected.numpy(), rtol=1e-12)
    np.testing.assert_allclose(value.numpy(), expected.numpy(), rtol=1e-12)


def test_unknown_tier_is_refused(monkeypatch):
    with pytest.raises(ValueError, match="tier= must be one of background, sync, interpret"):
        sg.compile(lambda a: a, tier="jit")
    monkeypatch.setenv("SYMGRAD_COMPILE", "fast")
    with pytest.raises(ValueError, match="SYMGRAD_COMPILE must be one of"):
        sg.compile(lambda a: a * 2)(np.ones(2))


def test_eager_backward_interprets_a_new_structure_and_compiles_a_repeated_one(monkeypatch):
    monkeypatch.setenv("SYMGRAD_COMPILE", "background")
    w = sg.tensor(np.array([0.5, -1.5, 2.0]), requires_grad=True)

    def step(x):
        w.grad = None
        (sg.sin(w * x) * 7.25).sum().backward()
        return w.grad.numpy().copy()

    x = np.array([1.0, 2.0, 3.0])
    expected = 7.25 * x * np.cos(w.numpy() * x)
    before = plan_count()
    np.testing.assert_allclose(step(x), expected, rtol=1e-12)
    assert plan_count() == before  # seen once: interpreted, nothing kept
    for _ in range(3):
        np.testing.assert_allclose(step(x), expected, rtol=1e-12)
    assert plan_count() == before + 1


def test_training_step_across_the_switch_tracks_the_synchronous_one(cold_cache):
    def make():
        sg.manual_seed(0)
        model = sg.nn.Sequential(sg.nn.Linear(3, 8), sg.nn.Tanh(), sg.nn.Linear(8, 1))
        opt = sg.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

        def step(x, y):
            opt.zero_grad()
            loss = sg.nn.functional.mse_loss(model(x), y)
            loss.backward()
            opt.step()
            return loss

        return model, step

    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((16, 3)), rng.standard_normal((16, 1))
    model_sync, step_sync = make()
    model_bg, step_bg = make()
    step_sync = sg.compile(step_sync, tier="sync")
    step_bg = sg.compile(step_bg, tier="background")
    for i in range(40):
        if i == 10:
            while step_bg.status() != "kernel":  # keep training on the interpreter meanwhile
                np.testing.assert_allclose(step_bg(x, y).item(), step_sync(x, y).item(), rtol=1e-9)
                time.sleep(0.05)
        np.testing.assert_allclose(step_bg(x, y).item(), step_sync(x, y).item(), rtol=1e-9)
    for p, q in zip(model_bg.parameters(), model_sync.parameters(), strict=True):
        np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=1e-9, atol=1e-12)


def test_two_processes_compile_into_one_cold_cache(cold_cache):
    script = textwrap.dedent(
        """
        import time, numpy as np, symgrad as sg
        f = sg.grad(lambda a: (sg.exp(a) * a).sum(), tier="background")
        a = np.linspace(0, 1, 5)
        f(a)
        deadline = time.monotonic() + 120
        while f.status() == "compiling in background" and time.monotonic() < deadline:
            time.sleep(0.05)
            f(a)
        print(f.status(), float(np.abs(f(a).numpy() - np.exp(a) * (1 + a)).max()))
        """
    )
    env = {**os.environ, "SYMGRAD_CACHE_DIR": str(cold_cache)}
    runs = [
        subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]  # fmt: skip
    for run in runs:
        out, err = run.communicate(timeout=300)
        assert run.returncode == 0, err
        assert "Warning" not in err, err
        status, error = out.split()
        assert status == "kernel"
        assert float(error) < 1e-12
    assert len(list(cold_cache.glob("k_*.py"))) == 1


def _scalar_mlp(m, params, xs, ys):
    """A micrograd-style 2-8-8-1 MLP over 0-d tensors: about 3,000 recorded nodes."""
    loss = m.tensor(np.float64(0.0))
    for x, y in zip(xs, ys, strict=True):
        h = [m.tensor(v) for v in x]
        for depth, layer in enumerate(params):
            out = []
            for weights, bias in layer:
                act = bias
                for w, v in zip(weights, h, strict=True):
                    act = act + w * v
                out.append(act.tanh() if depth < 2 else act)
            h = out
        loss = loss + (1 + -y * h[0]).relu()
    return loss


def test_first_backward_of_a_large_scalar_graph_is_interpreted_and_right(monkeypatch):
    import torch

    monkeypatch.setenv("SYMGRAD_COMPILE", "background")
    rng = np.random.default_rng(0)
    sizes = [(2, 8), (8, 8), (8, 1)]
    values = [[(rng.uniform(-1, 1, n_in), np.float64(rng.uniform(-1, 1))) for _ in range(n_out)]
              for n_in, n_out in sizes]  # fmt: skip
    xs, ys = rng.standard_normal((16, 2)), np.sign(rng.standard_normal(16))

    def leaves(m):
        return [
            [([m.tensor(w, requires_grad=True) for w in ws], m.tensor(b, requires_grad=True))
             for ws, b in layer]
            for layer in values
        ]  # fmt: skip

    ours, theirs = leaves(sg), leaves(torch)
    before = plan_count()
    _scalar_mlp(sg, ours, xs, ys).backward()
    _scalar_mlp(torch, theirs, xs, ys).backward()
    assert plan_count() == before  # nothing compiled for a structure seen once
    for layer_s, layer_t in zip(ours, theirs, strict=True):
        for (ws, b), (wt, bt) in zip(layer_s, layer_t, strict=True):
            for p, q in [*zip(ws, wt, strict=True), (b, bt)]:
                np.testing.assert_allclose(p.grad.item(), q.grad.item(), rtol=1e-10, atol=1e-12)


def test_stored_backward_plans_hold_no_arrays(monkeypatch):
    from symgrad.runtime.eager_backward import _PLANS

    monkeypatch.setenv("SYMGRAD_COMPILE", "interpret")  # every plan is kept
    for n in range(10, 34):
        w = sg.tensor(np.ones(n), requires_grad=True)
        (sg.exp(w * 2.0) * sg.tanh(w)).sum().backward()
    held = [
        v
        for plan in _PLANS.values()
        for node in plan.kernel.graph.nodes
        for v in (*node.inputs, node.output)
        if v.value is not None
    ]
    assert held == []
