"""Ops benchmark: an MLP training gradient and the softmax family, symgrad vs PyTorch vs JAX.

Workloads (float32, forward + backward, all contenders in one process, interleaved):
  mlp:     cross_entropy(relu(x @ W1 + b1) @ W2 + b2, y), 784 -> 128 -> 10, batch 64;
           gradients with respect to W1, b1, W2, b2.
  softmax: loss = sum(softmax(x, 1) * w) + sum(log_softmax(x, 1) * w) on a 4096 x 1000
           matrix; gradient with respect to x.
Contenders: symgrad compiled (sg.value_and_grad), PyTorch eager (one thread), JAX jit of
value_and_grad. Target: symgrad compiled / PyTorch eager <= 1.0 on both.

  rosenbrock: sum(100 (x[1:] - x[:-1]**2)**2 + (1 - x[:-1])**2) and its gradient, float64,
           N = 1e5, against a hand-written fused Numba loop (the reference; its gradient
           array is allocated per call, as symgrad's is). Target: <= 1.3x the reference.

Run:  python benchmarks/ops.py          (about a minute)
      python benchmarks/ops.py --quick
      python benchmarks/ops.py --only rosenbrock
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one thread for every contender's BLAS
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")

import argparse

import numba
import numpy as np
import torch
from common import interleaved_medians, machine, table

import symgrad as sg
import symgrad.functional as F

torch.set_num_threads(1)


def mlp_contenders(rng: np.random.Generator) -> dict:
    batch, d_in, hidden, classes = 64, 784, 128, 10
    x = rng.standard_normal((batch, d_in)).astype(np.float32)
    y = rng.integers(0, classes, batch)
    params = [
        (rng.standard_normal((d_in, hidden)) * 0.05).astype(np.float32),
        np.zeros(hidden, np.float32),
        (rng.standard_normal((hidden, classes)) * 0.05).astype(np.float32),
        np.zeros(classes, np.float32),
    ]

    def sg_loss(w1, b1, w2, b2, x, y):
        return F.cross_entropy(F.relu(x @ w1 + b1) @ w2 + b2, y)

    step = sg.value_and_grad(sg_loss, argnums=(0, 1, 2, 3))

    tparams = [torch.tensor(p, requires_grad=True) for p in params]
    tx, ty = torch.tensor(x), torch.tensor(y)

    def torch_step():
        for p in tparams:
            p.grad = None
        w1, b1, w2, b2 = tparams
        loss = torch.nn.functional.cross_entropy(torch.relu(tx @ w1 + b1) @ w2 + b2, ty)
        loss.backward()
        return loss, [p.grad for p in tparams]

    contenders = {"symgrad compiled": lambda: step(*params, x, y), "PyTorch eager": torch_step}
    check = [(lambda: step(*params, x, y)[1]), (lambda: torch_step()[1])]
    jax_step = _jax_mlp(params, x, y)
    if jax_step is not None:
        contenders["JAX jit"] = jax_step
    return contenders, check


def _jax_mlp(params, x, y):
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None

    def loss(w1, b1, w2, b2, x, y):
        logits = jnp.maximum(x @ w1 + b1, 0) @ w2 + b2
        logp = jax.nn.log_softmax(logits, axis=1)
        return -jnp.mean(logp[jnp.arange(x.shape[0]), y])

    fn = jax.jit(jax.value_and_grad(loss, argnums=(0, 1, 2, 3)))
    args = [jnp.asarray(a) for a in (*params, x, y)]
    return lambda: jax.block_until_ready(fn(*args))


def softmax_contenders(rng: np.random.Generator) -> dict:
    x = rng.standard_normal((4096, 1000)).astype(np.float32)
    w = rng.standard_normal((4096, 1000)).astype(np.float32)

    def sg_loss(x, w):
        return (F.softmax(x, 1) * w).sum() + (F.log_softmax(x, 1) * w).sum()

    step = sg.value_and_grad(sg_loss)
    tx = torch.tensor(x, requires_grad=True)
    tw = torch.tensor(w)

    def torch_step():
        tx.grad = None
        loss = (torch.softmax(tx, 1) * tw).sum() + (torch.log_softmax(tx, 1) * tw).sum()
        loss.backward()
        return loss, [tx.grad]

    contenders = {"symgrad compiled": lambda: step(x, w), "PyTorch eager": torch_step}
    check = [(lambda: [step(x, w)[1]]), (lambda: torch_step()[1])]
    try:
        import jax
        import jax.numpy as jnp

        def jloss(x, w):
            return (jax.nn.softmax(x, 1) * w).sum() + (jax.nn.log_softmax(x, 1) * w).sum()

        fn = jax.jit(jax.value_and_grad(jloss))
        jx, jw = jnp.asarray(x), jnp.asarray(w)
        contenders["JAX jit"] = lambda: jax.block_until_ready(fn(jx, jw))
    except ImportError:
        pass
    return contenders, check


NUMBA_REF = "numba fused loop (reference)"
ROSENBROCK_TARGET = 1.3


@numba.njit(error_model="numpy")
def _rosenbrock_fused(x, g):
    """The value returned, its gradient written into ``g``: one pass over ``x``."""
    n = x.shape[0]
    total = 0.0
    previous = 0.0  # d/dx[i] of the term i - 1: 200 (x[i] - x[i-1]**2)
    for i in range(n - 1):
        a, b = x[i], x[i + 1]
        d = b - a * a
        total += 100.0 * d * d + (1.0 - a) * (1.0 - a)
        g[i] = previous - 400.0 * d * a - 2.0 * (1.0 - a)
        previous = 200.0 * d
    g[n - 1] = previous
    return total


def _rosenbrock(x):
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


def rosenbrock_contenders(rng: np.random.Generator) -> dict:
    x = rng.standard_normal(100_000)

    def reference():
        g = np.empty_like(x)
        return _rosenbrock_fused(x, g), g

    step = sg.value_and_grad(_rosenbrock)
    tx = torch.tensor(x, requires_grad=True)

    def torch_step():
        tx.grad = None
        loss = _rosenbrock(tx)
        loss.backward()
        return loss, [tx.grad]

    contenders = {
        NUMBA_REF: reference,
        "symgrad compiled": lambda: step(x),
        "PyTorch eager": torch_step,
    }
    check = [(lambda: [step(x)[1]]), (lambda: torch_step()[1])]
    np.testing.assert_allclose(reference()[1], torch_step()[1][0].numpy(), rtol=1e-10)
    try:
        import jax

        fn = jax.jit(jax.value_and_grad(_rosenbrock))
        jx = jax.numpy.asarray(x)
        contenders["JAX jit"] = lambda: jax.block_until_ready(fn(jx))
    except ImportError:
        pass
    return contenders, check


def _agree(check) -> None:
    ours, theirs = (fn() for fn in check)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(np.asarray(a), b.numpy(), rtol=2e-3, atol=2e-5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run)")
    parser.add_argument(
        "--only",
        choices=["mlp", "softmax", "rosenbrock"],
        action="append",
        help="run only this workload (repeatable); all of them by default",
    )
    args = parser.parse_args()
    chosen = set(args.only or ["mlp", "softmax", "rosenbrock"])
    rng = np.random.default_rng(0)
    print(f"Machine: {machine()}; one thread for PyTorch, BLAS and XLA")
    rows = []
    for key, workload, make, (repeats, number) in (
        ("mlp", "MLP 784-128-10, batch 64", mlp_contenders, (15, 20)),
        ("softmax", "softmax + log_softmax, 4096x1000", softmax_contenders, (9, 2)),
    ):
        if key not in chosen:
            continue
        contenders, check = make(rng)
        _agree(check)
        for fn in contenders.values():  # compile and warm up
            fn()
            fn()
        if args.quick:
            repeats, number = 3, max(1, number // 4)
        medians = interleaved_medians(contenders, repeats, number)
        base = medians["PyTorch eager"]
        rows += [(workload, name, t, t / base) for name, t in medians.items()]
    if rows:
        print()
        print(table(rows))
    if "rosenbrock" in chosen:
        rosenbrock(args.quick, rng)


def rosenbrock(quick: bool, rng: np.random.Generator) -> None:
    """Time the Rosenbrock workload against the hand-written loop and print the ratio."""
    workload = "Rosenbrock value+grad, N=1e5, float64"
    contenders, check = rosenbrock_contenders(rng)
    _agree(check)
    for fn in contenders.values():
        fn()
        fn()
    repeats, number = (3, 10) if quick else (15, 50)
    medians = interleaved_medians(contenders, repeats, number)
    base = medians[NUMBA_REF]
    print()
    print(table([(workload, n, t, t / base) for n, t in medians.items()], NUMBA_REF))
    ratio = medians["symgrad compiled"] / base
    print(f"\nsymgrad compiled / {NUMBA_REF}: {ratio:.2f} (target <= {ROSENBROCK_TARGET})")


if __name__ == "__main__":
    main()
