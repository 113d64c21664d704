"""Large graphs split at layers into pieces compiled on their own, identical pieces shared."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import sympy
import torch

import symgrad as sg
from symgrad.compiler.backend import kernel_path
from symgrad.compiler.codegen import pieces
from symgrad.ir import Schedule
from symgrad.runtime import tiers


def _deep_step(layers: int, width: int, tier: str, seed: int = 0):
    sg.manual_seed(seed)
    stack = []
    for _ in range(layers):
        stack += [sg.nn.Linear(width, width), sg.nn.Tanh()]
    model = sg.nn.Sequential(*stack)
    opt = sg.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

    def step(x, y):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        return loss

    return model, sg.compile(step, tier=tier)


def _torch_copy(model):
    layers = []
    for layer in model:
        if isinstance(layer, sg.nn.Linear):
            copy = torch.nn.Linear(layer.in_features, layer.out_features, dtype=torch.float64)
            with torch.no_grad():
                copy.weight.copy_(torch.from_numpy(layer.weight.numpy()))
                copy.bias.copy_(torch.from_numpy(layer.bias.numpy()))
            layers.append(copy)
        else:
            layers.append(torch.nn.Tanh())
    return torch.nn.Sequential(*layers)


def _kernel(f, *args):
    return f._entry(args).kernel


def test_twelve_identical_layers_share_one_layer_kernel_file(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMGRAD_CACHE_DIR", str(tmp_path))
    _, step = _deep_step(12, 16, "sync")
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((8, 16)), rng.standard_normal((8, 16))
    step(x, y)
    plan = _kernel(step, x, y).source.plan
    calls = [line.split("(")[0].strip() for line in plan.driver.splitlines()[1:]]
    calls = [c for c in calls if c.startswith("p")]
    counts = {c: calls.count(c) for c in set(calls)}
    # the bias and Tanh and the weight and bias updates run 12 times each, the backward
    # of Tanh and bias 11 (the last layer's meets the loss); the products are the
    # driver's own: 12 forward, 12 weight gradients, 11 input gradients (the first
    # layer needs none), their transposed weights read where used, never copied
    assert sorted(counts.values(), reverse=True)[:4] == [12, 12, 12, 11]
    products = [line for line in plan.driver.splitlines() if "matmul(" in line]
    assert len(products) == 12 + 12 + 11
    assert not any("sg_gemm" in p.source for p in plan.pieces)
    assert len(plan.pieces) < len(calls) // 4
    files = set(tmp_path.glob("k_*.py"))
    assert {kernel_path(p.source) for p in plan.pieces} <= files  # a file per distinct piece
    # every piece is bounded
    assert all(len(p.graph.nodes) <= pieces.PIECE_NODES + len(p.graph.outputs) for p in plan.pieces)
    graph = _kernel(step, x, y).graph
    outputs = set(graph.outputs)
    for piece in pieces.cut(graph):
        for v in piece.outputs:  # a transposed weight is never copied for another piece
            assert v in outputs or v.producer.primitive.schedule is not Schedule.VIEW
        # the copy that writes a gradient output runs in the piece that computes it
        assert not all(pieces._is_output_copy(node, outputs) for node in piece.nodes)


@pytest.mark.parametrize("tier", ["sync", "background"])
def test_a_split_step_trains_as_pytorch_does(tier, tmp_path, monkeypatch):
    monkeypatch.setenv("SYMGRAD_CACHE_DIR", str(tmp_path))
    model, step = _deep_step(10, 8, tier)
    assert len(list(model.parameters())) == 20
    reference = _torch_copy(model)
    opt = torch.optim.SGD(reference.parameters(), lr=0.05, momentum=0.9)
    rng = np.random.default_rng(1)
    for i in range(12):
        batch = (16, 16, 16, 9, 16, 5, 16, 16, 16, 16, 16, 16)[i]  # new batch sizes too
        x, y = rng.standard_normal((batch, 8)), rng.standard_normal((batch, 8))
        opt.zero_grad()
        want = ((reference(torch.from_numpy(x)) - torch.from_numpy(y)) ** 2).mean()
        want.backward()
        opt.step()
        got = step(x, y)
        np.testing.assert_allclose(got.item(), want.item(), rtol=1e-10)
    assert hasattr(_kernel(step, x, y).source, "plan")
    for mine, theirs in zip(model.parameters(), reference.parameters(), strict=True):
        np.testing.assert_allclose(mine.numpy(), theirs.detach().numpy(), rtol=1e-9, atol=1e-12)


def test_the_split_background_step_reaches_the_kernel(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMGRAD_CACHE_DIR", str(tmp_path))
    _, step = _deep_step(10, 8, "background")
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((4, 8)), rng.standard_normal((4, 8))
    deadline = time.monotonic() + 180
    while step.status() != "kernel" and time.monotonic() < deadline:
        step(x, y)
        time.sleep(0.02)
    assert step.status() == "kernel"
    kernel = _kernel(step, x, y)
    assert kernel.call == kernel._run  # the driver now calls the pieces' dispatchers


def test_small_graphs_stay_one_kernel():
    f = sg.compile(lambda a, b: (sg.tanh(a @ b) ** 2).mean(), tier="interpret")
    a, b = np.ones((3, 4)), np.ones((4, 2))
    assert "def kernel" in f.source(a, b) and "--- driver ---" not in f.source(a, b)


def test_the_source_lists_pieces_then_the_driver():
    _, step = _deep_step(8, 4, "interpret")
    x = np.zeros((2, 4))
    text = step.source(x, x)
    assert text.index("# --- piece p0 ---") < text.index("# --- driver ---")
    assert "def run(" in text and text.count("def kernel(") >= 2


def test_a_piece_that_fails_to_build_leaves_its_graph_on_the_interpreter(tmp_path, monkeypatch):
    # every piece of a split step goes through one worker pool; break it
    from symgrad.runtime import worker_pool

    monkeypatch.setenv("SYMGRAD_CACHE_DIR", str(tmp_path))
    broken = tmp_path / "broken_worker.py"
    broken.write_text("raise SystemExit(5)\n")
    monkeypatch.setattr(worker_pool, "WORKER_SCRIPT", broken)
    monkeypatch.setattr(tiers, "_SHARED_PIECES", type(tiers._SHARED_PIECES)())
    model, step = _deep_step(10, 8, "background")
    reference = _torch_copy(model)
    opt = torch.optim.SGD(reference.parameters(), lr=0.05, momentum=0.9)
    x, y = np.linspace(-1, 1, 24).reshape(3, 8), np.zeros((3, 8))
    deadline = time.monotonic() + 180
    with pytest.warns(RuntimeWarning, match="exit status 5"):
        while step.status() != "interpreter" and time.monotonic() < deadline:
            got = step(x, y)
            opt.zero_grad()
            want = (reference(torch.from_numpy(x)) ** 2).mean()
            want.backward()
            opt.step()
            np.testing.assert_allclose(got.item(), want.item(), rtol=1e-10)
            time.sleep(0.02)
    assert step.status() == "interpreter"


def test_a_fresh_process_loads_the_pieces_from_the_cache(tmp_path):
    script = textwrap.dedent(
        """
        import numpy as np, symgrad as sg
        from symgrad.compiler import backend
        sg.manual_seed(0)
        layers = []
        for _ in range(10):
            layers += [sg.nn.Linear(8, 8), sg.nn.Tanh()]
        model = sg.nn.Sequential(*layers)
        opt = sg.optim.SGD(model.parameters(), lr=0.1)
        @sg.compile(tier="sync")
        def step(x, y):
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            opt.step()
            return loss
        x = np.linspace(-1, 1, 32).reshape(4, 8)
        print(repr(step(x, -x).item()), backend.machine_code_stats()["compiled"])
        """
    )
    env = {**os.environ, "SYMGRAD_CACHE_DIR": str(tmp_path)}
    runs = [
        subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
        ).stdout.split()
        for _ in range(2)
    ]
    assert runs[0][0] == runs[1][0]  # the same loss
    assert int(runs[0][1]) > 0 and int(runs[1][1]) == 0  # compiled once, then loaded


@pytest.mark.parametrize("mode", ["write", "accumulate"])
def test_the_driver_writes_or_adds_a_product_into_its_output(mode):
    # a product computed by the driver itself, read through a transpose, kept in the
    # caller's buffer (``=``) or added to what is there (``+=``), as a kernel would
    from symgrad import ir
    from symgrad.compiler.build import Kernel, prepare
    from symgrad.ir.primitives.matmul import matmul
    from symgrad.ir.primitives.permute import permute
    from symgrad.runtime.split import SplitKernel

    f64 = np.dtype("float64")
    x, w = ir.Var((3, 4), f64), ir.Var((2, 4), f64)
    y = x
    for _ in range(2 * pieces.PIECE_NODES):
        y = ir.elementwise(0.5 * sympy.sin(ir.arg(0)), [y])
    graph, source = prepare(ir.Graph([x, w], [matmul(y, permute(w, (1, 0)))]), [mode], ["x", "w"])
    assert "matmul(" in source.plan.driver and "x1.T" in source.plan.driver
    run = SplitKernel(
        graph, source, [Kernel(p.source, p.graph, ["x0"]) for p in source.plan.pieces]
    )
    rng = np.random.default_rng(4)
    xs, ws = rng.standard_normal((3, 4)), rng.standard_normal((2, 4))
    out = np.ones((3, 2))
    run(xs, ws, out)
    want = xs
    for _ in range(2 * pieces.PIECE_NODES):
        want = 0.5 * np.sin(want)
    want = want @ ws.T
    np.testing.assert_allclose(out, want + 1 if mode == "accumulate" else want, rtol=1e-12)
