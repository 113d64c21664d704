"""Time to first step: how long a user waits before training runs, each case in fresh processes.

Cases (``--cases``, default all):
  digits    64-128-10 MLP (Linear-ReLU-Linear), float32, batch 64, cross entropy, Adam(3e-3),
            whole step compiled, on scikit-learn's digits; then one batch of 37 (a new shape)
  deep      12 Linear layers (64 wide, tanh between), input 64, batch 64, float64, MSE,
            SGD(0.01), whole step compiled
  scalar    micrograd-style 2-8-8-1 MLP of 0-d tensors over 16 points, hinge loss summed
            (about 3k recorded nodes): forward plus the first ``backward()``, eager
  makemore  MLP language model: vocab 27, context 3, embedding 10, hidden 200, batch 32,
            ``C[X]`` embedding, tanh, cross entropy, AdamW(1e-3), random data, compiled step
  import    ``import symgrad`` against ``import jax`` and ``import torch``

Contenders: symgrad (default ``background`` tier, also with one OpenBLAS thread, plus
``tier="sync"`` for reference), PyTorch eager and JAX ``jit`` of a pure step function
(optimizers written by hand), each with default threads and with one thread.

Every measurement runs in a new Python process (``python benchmarks/compile.py --case
NAME --contender NAME``, which prints one JSON line): "cold" with an empty kernel cache
(``SYMGRAD_CACHE_DIR`` and JAX's persistent compilation cache in a new temporary
folder), "warm" in a second process on that same cache. A process times from just
before its first call, after imports and data set-up:
  first call       the first step (symgrad: trace, plus compile for ``sync``; JAX: trace and
                   XLA compile)
  steady after     wall time from the first call until steps run on the compiled kernel
                   (symgrad: ``f.status() == "kernel"`` while stepping continuously, at most
                   120 s; the peers and ``sync`` are there once their first calls return)
  steady step      median time of 200 steps after that (or of those run in 20 s)
  batch 37 / 53    digits only: the first call with a new batch size right after the
                   first step (37), and once steps run at kernel speed (53, never seen)
Medians of 3 repeats. Run:

  python benchmarks/compile.py                    # all cases, about half an hour
  python benchmarks/compile.py --quick            # 1 repeat, 20 steady steps
  python benchmarks/compile.py --cases digits import
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np

STEADY_CAP_S = 120.0
STEADY_BUDGET_S = 20.0  # the steady-step median stops early after this many seconds
CHILD_TIMEOUT_S = 600
ONE_THREAD_XLA = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"

# contender name -> (table name, variant)
CONTENDERS = {
    "symgrad": ("symgrad", "background (default)"),
    "symgrad-1t": ("symgrad", "background, one BLAS thread"),
    "symgrad-sync": ("symgrad", "tier=sync"),
    "torch": ("PyTorch eager", "default threads"),
    "torch-1t": ("PyTorch eager", "one thread"),
    "jax": ("JAX jit", "default threads"),
    "jax-1t": ("JAX jit", "one thread"),
}
STEP_CONTENDERS = list(CONTENDERS)
IMPORTS = {"symgrad": "symgrad", "jax": "jax", "torch": "torch"}  # contender -> module
CASE_CONTENDERS = {
    "digits": STEP_CONTENDERS,
    "deep": STEP_CONTENDERS,
    "scalar": ["symgrad", "torch", "torch-1t", "jax", "jax-1t"],
    "makemore": STEP_CONTENDERS,
    "import": list(IMPORTS),
}
TITLES = {
    "digits": "digits: 64-128-10 MLP, f32, batch 64, Adam, compiled step",
    "deep": "12-layer tanh MLP, width 64, f64, batch 64, MSE, SGD, compiled step",
    "scalar": "micrograd-style scalar graph (2-8-8-1 MLP, 16 points): forward + first backward",
    "makemore": "makemore MLP (vocab 27, context 3, emb 10, hidden 200), batch 32, AdamW",
    "import": "import time",
}


@dataclass(frozen=True)
class Workload:
    """A compiled-step case: an MLP (or the makemore model), its loss and optimizer."""

    sizes: tuple[int, ...]  # layer widths; for makemore (vocab, context, emb, hidden)
    act: str  # "relu" or "tanh"
    loss: str  # "ce" or "mse"
    opt: str  # "adam", "adamw" or "sgd"
    lr: float
    dtype: type
    batch: int
    partial: int | None = None  # a second batch size called right after the first step
    embedding: bool = False


WORKLOADS = {
    "digits": Workload((64, 128, 10), "relu", "ce", "adam", 3e-3, np.float32, 64, partial=37),
    "deep": Workload((64,) * 12 + (1,), "tanh", "mse", "sgd", 0.01, np.float64, 64),
    "makemore": Workload((27, 3, 10, 200), "tanh", "ce", "adamw", 1e-3, np.float32, 32,
                         embedding=True),
}  # fmt: skip


# ---------------------------------------------------------------- data and parameters


def load_data(case: str, w: Workload) -> tuple[np.ndarray, np.ndarray]:
    """All inputs and targets of a case as NumPy arrays (the batches are cut from them)."""
    rng = np.random.default_rng(0)
    if case == "digits":
        from sklearn.datasets import load_digits

        digits = load_digits()
        return (digits.data / 16.0).astype(np.float32), digits.target.astype(np.int64)
    if w.embedding:
        vocab, context = w.sizes[:2]
        return rng.integers(0, vocab, (2048, context)), rng.integers(0, vocab, 2048)
    x = rng.standard_normal((2048, w.sizes[0])).astype(w.dtype)
    return x, np.sin(x.sum(axis=1, keepdims=True)).astype(w.dtype)


def init_params(w: Workload) -> list[np.ndarray]:
    """MLP: weight (out, in) and bias per layer; makemore: C, W1, b1, W2, b2."""
    rng = np.random.default_rng(1)
    if w.embedding:
        vocab, context, emb, hidden = w.sizes
        shapes = [(vocab, emb), (context * emb, hidden), (hidden,), (hidden, vocab), (vocab,)]
        return [(rng.standard_normal(s) * 0.1).astype(w.dtype) for s in shapes]
    params = []
    for d_in, d_out in pairwise(w.sizes):
        scale = 1 / np.sqrt(d_in)
        params.append(rng.uniform(-scale, scale, (d_out, d_in)).astype(w.dtype))
        params.append(rng.uniform(-scale, scale, d_out).astype(w.dtype))
    return params


def batch_stream(x: np.ndarray, y: np.ndarray, batch: int) -> Iterator[tuple]:
    """Full batches of a shuffled order, contiguous, cycled forever."""
    order = np.random.default_rng(2).permutation(len(x))
    cut = [order[k : k + batch] for k in range(0, len(x) - batch + 1, batch)]
    batches = [(np.ascontiguousarray(x[i]), np.ascontiguousarray(y[i])) for i in cut]
    while True:
        yield from batches


def state_dict(params: list[np.ndarray]) -> dict[str, np.ndarray]:
    """Names of a Sequential of Linear layers with an activation between each pair."""
    names = {}
    for k in range(0, len(params), 2):
        names[f"{k}.weight"], names[f"{k}.bias"] = params[k], params[k + 1]
    return names


# ---------------------------------------------------------------- the steps


def symgrad_step(w: Workload, params: list[np.ndarray], variant: str):
    """The whole step under ``@sg.compile``; ready when the 64-batch entry runs a kernel."""
    import symgrad as sg

    F = sg.nn.functional
    if w.embedding:
        C, W1, b1, W2, b2 = tensors = [sg.nn.Parameter(p) for p in params]

        def model(xb):
            emb = C[xb]
            h = sg.tanh(emb.view(emb.shape[0], -1) @ W1 + b1)
            return h @ W2 + b2
    else:
        model = mlp(sg.nn, w)
        model.load_state_dict(state_dict(params))
        tensors = model.parameters()
    opt = {"adam": sg.optim.Adam, "adamw": sg.optim.AdamW, "sgd": sg.optim.SGD}[w.opt]
    optimizer = opt(tensors, lr=w.lr)
    loss_fn = F.cross_entropy if w.loss == "ce" else F.mse_loss

    @sg.compile(tier="sync" if variant == "sync" else None)
    def train_step(inputs, labels):
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), labels)
        loss.backward()
        optimizer.step()
        return loss

    return train_step, lambda xb, yb: train_step.status(xb, yb) == "kernel"


def mlp(nn, w: Workload):
    """Linear layers of ``w.sizes`` with ``w.act`` between them, in ``w.dtype`` (symgrad or
    PyTorch ``nn``)."""
    act = nn.ReLU if w.act == "relu" else nn.Tanh
    layers = []
    for d_in, d_out in pairwise(w.sizes):
        layers += [nn.Linear(d_in, d_out), act()]
    model = nn.Sequential(*layers[:-1])
    return model.float() if w.dtype == np.float32 else model.double()


def torch_step(w: Workload, params: list[np.ndarray], variant: str):
    import torch

    if variant == "1t":
        torch.set_num_threads(1)
    F = torch.nn.functional
    if w.embedding:
        C, W1, b1, W2, b2 = tensors = [torch.tensor(p, requires_grad=True) for p in params]

        def model(xb):
            emb = C[xb]
            h = torch.tanh(emb.view(emb.shape[0], -1) @ W1 + b1)
            return h @ W2 + b2
    else:
        model = mlp(torch.nn, w)
        model.load_state_dict({k: torch.tensor(v) for k, v in state_dict(params).items()})
        tensors = model.parameters()
    opt = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}[w.opt]
    optimizer = opt(tensors, lr=w.lr)
    loss_fn = F.cross_entropy if w.loss == "ce" else F.mse_loss

    def step(xb, yb):
        optimizer.zero_grad()
        loss = loss_fn(model(torch.from_numpy(xb)), torch.from_numpy(yb))
        loss.backward()
        optimizer.step()
        return loss.item()

    return step, lambda xb, yb: True


def jax_step(w: Workload, params: list[np.ndarray], variant: str):
    """``jax.jit`` of a pure step over (params, Adam moments, step count)."""
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)  # float64 and int64 as in the other contenders

    def forward(ps, xb):
        if w.embedding:
            C, W1, b1, W2, b2 = ps
            emb = C[xb]
            return jnp.tanh(emb.reshape(emb.shape[0], -1) @ W1 + b1) @ W2 + b2
        h = xb
        for k in range(0, len(ps), 2):
            h = h @ ps[k].T + ps[k + 1]
            if k + 2 < len(ps):
                h = jnp.maximum(h, 0) if w.act == "relu" else jnp.tanh(h)
        return h

    def loss_fn(ps, xb, yb):
        out = forward(ps, xb)
        if w.loss == "mse":
            return jnp.mean((out - yb) ** 2)
        logp = jax.nn.log_softmax(out, axis=1)
        return -jnp.mean(jnp.take_along_axis(logp, yb[:, None], axis=1))

    @jax.jit
    def step(state, xb, yb):
        ps, m, v, t = state
        value, grads = jax.value_and_grad(loss_fn)(ps, xb, yb)
        new, m, v, t = update(w, ps, grads, m, v, t)
        return (new, m, v, t), value

    ps = [jnp.asarray(p) for p in params]
    zeros = [jnp.zeros_like(p) for p in ps]
    state = [(ps, zeros, zeros, jnp.asarray(0.0, params[0].dtype))]

    def run(xb, yb):
        state[0], value = step(state[0], jnp.asarray(xb), jnp.asarray(yb))
        return float(value)

    return run, lambda xb, yb: True


def update(w: Workload, ps, grads, m, v, t):
    """SGD, Adam or AdamW (PyTorch's formulas and defaults), as pure functions."""
    import jax.numpy as jnp

    if w.opt == "sgd":
        return [p - w.lr * g for p, g in zip(ps, grads, strict=True)], m, v, t
    b1, b2, eps, decay = 0.9, 0.999, 1e-8, 0.01 if w.opt == "adamw" else 0.0
    t = t + 1
    m = [b1 * mi + (1 - b1) * g for mi, g in zip(m, grads, strict=True)]
    v = [b2 * vi + (1 - b2) * g * g for vi, g in zip(v, grads, strict=True)]
    new = [
        p * (1 - w.lr * decay) - w.lr / (1 - b1**t) * mi / (jnp.sqrt(vi / (1 - b2**t)) + eps)
        for p, mi, vi in zip(ps, m, v, strict=True)
    ]
    return new, m, v, t


STEP_BUILDERS = {"symgrad": symgrad_step, "torch": torch_step, "jax": jax_step}


# ---------------------------------------------------------------- measuring (child process)


def measure_steps(case: str, contender: str, steady_steps: int) -> dict:
    """First call, the partial batch's first call, time to steady state, steady step time."""
    w = WORKLOADS[case]
    framework, _, variant = contender.partition("-")
    x, y = load_data(case, w)
    step, ready = STEP_BUILDERS[framework](w, init_params(w), variant)
    batches = batch_stream(x, y, w.batch)
    xb, yb = next(batches)
    result = {}
    start = time.perf_counter()
    step(xb, yb)
    result["first"] = time.perf_counter() - start
    if w.partial:
        begin = time.perf_counter()
        step(np.ascontiguousarray(x[: w.partial]), np.ascontiguousarray(y[: w.partial]))
        result["partial"] = time.perf_counter() - begin
    while not ready(xb, yb) and time.perf_counter() - start < STEADY_CAP_S:
        xb, yb = next(batches)
        step(xb, yb)
    result["steady_after"] = time.perf_counter() - start if ready(xb, yb) else None
    result["steady_step"] = median_time(lambda: step(*next(batches)), steady_steps)
    if w.partial:  # a batch size never seen, once the steps run at kernel speed
        fresh = w.partial + 16
        begin = time.perf_counter()
        step(np.ascontiguousarray(x[:fresh]), np.ascontiguousarray(y[:fresh]))
        result["new_size"] = time.perf_counter() - begin
    return result


def median_time(call: Callable[[], object], count: int) -> float:
    """Median seconds of ``count`` calls (fewer if they take over STEADY_BUDGET_S in all),
    each timed on its own."""
    times: list[float] = []
    stop = time.perf_counter() + STEADY_BUDGET_S
    while len(times) < count and (not times or time.perf_counter() < stop):
        begin = time.perf_counter()
        call()
        times.append(time.perf_counter() - begin)
    return statistics.median(times)


def scalar_net(make: Callable[[float], object]) -> list:
    """A 2-8-8-1 MLP as layers of (weights, bias) neurons, each number ``make(value)``."""
    rng = np.random.default_rng(3)
    sizes = (2, 8, 8, 1)
    return [
        [([make(rng.uniform(-1, 1)) for _ in range(d_in)], make(0.0)) for _ in range(d_out)]
        for d_in, d_out in pairwise(sizes)
    ]


def scalar_points() -> list[tuple[list[float], float]]:
    rng = np.random.default_rng(4)
    xs = rng.standard_normal((16, 2))
    return [(list(map(float, p)), 1.0 if p[0] * p[1] > 0 else -1.0) for p in xs]


def scalar_loss(net: list, points: list, tanh: Callable, relu: Callable):
    """Hinge loss ``sum(relu(1 - y * score))`` over the points, neuron by neuron."""
    total = 0.0
    for x, label in points:
        h = x
        for k, layer in enumerate(net):
            h = [sum((wi * xi for wi, xi in zip(ws, h, strict=True)), b) for ws, b in layer]
            if k + 1 < len(net):
                h = [tanh(v) for v in h]
        total = total + relu(1 - label * h[0])
    return total


def measure_scalar(contender: str, steady_steps: int) -> dict:
    framework, _, variant = contender.partition("-")
    points = scalar_points()
    if framework == "jax":
        return measure_scalar_jax(points, steady_steps)
    if framework == "torch":
        import torch

        if variant == "1t":
            torch.set_num_threads(1)
        net = scalar_net(lambda v: torch.tensor(v, dtype=torch.float64, requires_grad=True))
    else:
        import symgrad as sg

        net = scalar_net(lambda v: sg.tensor(v, requires_grad=True))
    start = time.perf_counter()
    loss = scalar_loss(net, points, lambda v: v.tanh(), lambda v: v.relu())
    loss.backward()
    return {"first": time.perf_counter() - start}


def measure_scalar_jax(points: list, steady_steps: int) -> dict:
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    net = scalar_net(lambda v: jnp.asarray(v, jnp.float64))
    run = jax.jit(
        jax.value_and_grad(lambda n: scalar_loss(n, points, jnp.tanh, lambda v: jnp.maximum(v, 0)))
    )
    start = time.perf_counter()
    jax.block_until_ready(run(net))
    first = time.perf_counter() - start
    steady = median_time(lambda: jax.block_until_ready(run(net)), steady_steps)
    return {"first": first, "steady_after": first, "steady_step": steady}


def child(case: str, contender: str, quick: bool) -> None:
    steady_steps = 20 if quick else 200
    if case == "scalar":
        result = measure_scalar(contender, steady_steps)
    else:
        result = measure_steps(case, contender, steady_steps)
    print(json.dumps(result))


# ---------------------------------------------------------------- running (parent process)

IMPORT_SCRIPT = (
    "import time; t = time.perf_counter(); import {module}; "
    "e = time.perf_counter() - t; import json; print(json.dumps({{'first': e}}))"
)


# Children write bytecode as a normal interpreter does: with PYTHONDONTWRITEBYTECODE set,
# every import would compile symgrad's modules from source again (0.2-0.4 s here).
DROPPED_ENV = ("SYMGRAD_COMPILE", "XLA_FLAGS", "PYTHONDONTWRITEBYTECODE")


def child_env(contender: str, cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in DROPPED_ENV}
    env["SYMGRAD_CACHE_DIR"] = str(cache / "symgrad")
    env["JAX_COMPILATION_CACHE_DIR"] = str(cache / "jax")
    env["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
    env["JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES"] = "0"
    if contender == "jax-1t":
        env["XLA_FLAGS"] = ONE_THREAD_XLA
    if contender == "symgrad-1t":
        env["OPENBLAS_NUM_THREADS"] = "1"
    return env


def run_child(case: str, contender: str, cache: Path, quick: bool) -> dict | None:
    """One fresh process; its JSON line, or None (with its errors on stderr) if it failed."""
    if case == "import":
        command = [sys.executable, "-c", IMPORT_SCRIPT.format(module=IMPORTS[contender])]
    else:
        command = [sys.executable, __file__, "--case", case, "--contender", contender]
        command += ["--quick"] if quick else []
    try:
        done = subprocess.run(
            command,
            env=child_env(contender, cache),
            capture_output=True,
            text=True,
            timeout=CHILD_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        print(f"  {case}/{contender}: timed out", file=sys.stderr)
        return None
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        print(f"  {case}/{contender} failed:\n{tail}", file=sys.stderr)
        return None
    return json.loads(lines[-1])


def measure(case: str, contender: str, repeats: int, quick: bool) -> dict[str, list]:
    """Cold and warm results of ``repeats`` pairs of processes, each pair on a new cache."""
    runs: dict[str, list] = {"cold": [], "warm": []}
    if case == "import":  # an installed package has its bytecode written: write it first
        run_child(case, contender, Path(tempfile.gettempdir()), quick)
    for _ in range(repeats):
        cache = Path(tempfile.mkdtemp(prefix="symgrad-bench-"))
        try:
            for kind in runs:
                runs[kind].append(run_child(case, contender, cache, quick))
        finally:
            shutil.rmtree(cache, ignore_errors=True)
    print(f"  {case}/{contender}: {json.dumps(runs)}", file=sys.stderr)
    return runs


def median_of(results: list[dict | None], key: str) -> float | str | None:
    """Median of a field over the repeats; "never" if a run never reached the kernel."""
    values = [r.get(key, "absent") for r in results if r is not None]
    if not values or "absent" in values:
        return None
    if any(v is None for v in values):
        return "never"
    return statistics.median(values)


def cell(value: float | str | None, scale: float = 1.0, digits: int = 2) -> str:
    if value is None:
        return "—"
    if value == "never":
        return f"> {STEADY_CAP_S:.0f}"
    return f"{value * scale:,.{digits}f}"


def row(case: str, contender: str, runs: dict[str, list], partial: bool) -> str:
    name, variant = CONTENDERS[contender]
    if case == "import":
        name, variant = f"`import {IMPORTS[contender]}`", "fresh process"
    cold, warm = runs["cold"], runs["warm"]
    if all(r is None for r in cold + warm):
        return f"| {name} | {variant} | failed | failed | — | — |" + (" — | — |" if partial else "")
    cells = [cell(median_of(cold, "first")), cell(median_of(warm, "first"))]
    if partial:
        cells.append(cell(median_of(cold, "partial"), digits=3))
        cells.append(cell(median_of(cold, "new_size"), 1e3, 2))
    after = (cell(median_of(cold, "steady_after")), cell(median_of(warm, "steady_after")))
    cells.append(after[0] if after == ("—", "—") else f"{after[0]} / {after[1]}")
    cells.append(cell(median_of(cold, "steady_step"), 1e3, 3))
    return f"| {name} | {variant} | " + " | ".join(cells) + " |"


def case_table(case: str, results: dict[str, dict]) -> str:
    partial = case in WORKLOADS and WORKLOADS[case].partial is not None
    header = ["contender", "variant", "cold first call s", "warm first call s"]
    if partial:
        header.append(f"batch {WORKLOADS[case].partial} first call s (cold)")
        header.append(f"batch {WORKLOADS[case].partial + 16} at steady state ms (cold)")
    header += ["steady state after s (cold / warm)", "steady step ms"]
    lines = [
        f"### {TITLES[case]}",
        "",
        "| " + " | ".join(header) + " |",
        "|---|---|" + "---:|" * (len(header) - 2),
    ]
    lines += [row(case, contender, runs, partial) for contender, runs in results.items()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 repeat, 20 steady steps")
    parser.add_argument("--cases", nargs="+", choices=list(CASE_CONTENDERS), help="cases to run")
    parser.add_argument("--case", choices=list(CASE_CONTENDERS), help=argparse.SUPPRESS)
    parser.add_argument("--contender", choices=list(CONTENDERS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        child(args.case, args.contender, args.quick)
        return
    repeats = 1 if args.quick else 3
    tables = []
    for case in args.cases or list(CASE_CONTENDERS):
        results = {c: measure(case, c, repeats, args.quick) for c in CASE_CONTENDERS[case]}
        tables.append(case_table(case, results))
    from common import machine  # sets SYMGRAD_COMPILE=sync: only after the children ran

    print(f"Machine: {machine()}")
    print(f"Medians of {repeats} fresh-process run(s) per cell\n")
    print("\n\n".join(tables))


if __name__ == "__main__":
    main()
