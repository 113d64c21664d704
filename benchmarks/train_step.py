"""Training-step benchmark: symgrad compiled step and eager loop vs PyTorch, JAX and NumPy.

  (a) MLP 4 -> 16 -> 1 (tanh), batch 32, float64, SGD(lr=0.01), MSE loss
  (b) MLP 784 -> 128 -> 10 (relu), batch 64, float32, Adam(lr=1e-3), cross entropy
Each contender does a whole step: forward, loss, backward, parameter update.
Contenders: symgrad compiled (@sg.compile over zero_grad/forward/backward/step),
symgrad eager loop, PyTorch eager (one thread), JAX jit of value_and_grad + update,
hand-written NumPy. Targets: on (a) symgrad compiled >= 10x faster than PyTorch eager
and faster than JAX; on (b) at least as fast as PyTorch eager; symgrad eager no slower
than PyTorch eager on (a).

Run:  python benchmarks/train_step.py          (about a minute)
      python benchmarks/train_step.py --quick
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one BLAS thread for every contender
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")

import argparse

import numpy as np
import torch
from common import interleaved_medians, machine, table

import symgrad as sg

torch.set_num_threads(1)

CASES = {
    "a": dict(sizes=(4, 16, 1), batch=32, dtype=np.float64, act="tanh", opt="sgd", lr=0.01),
    "b": dict(sizes=(784, 128, 10), batch=64, dtype=np.float32, act="relu", opt="adam", lr=1e-3),
}


def _data(case, rng):
    d_in, _, d_out = case["sizes"]
    x = rng.standard_normal((case["batch"], d_in)).astype(case["dtype"])
    if case["opt"] == "sgd":
        return x, np.sin(x.sum(axis=1, keepdims=True)).astype(case["dtype"])
    return x, rng.integers(0, d_out, case["batch"])


def _init(case, rng):
    d_in, hidden, d_out = case["sizes"]
    shapes = [(hidden, d_in), (hidden,), (d_out, hidden), (d_out,)]
    return [(rng.standard_normal(s) * 0.1).astype(case["dtype"]) for s in shapes]


def symgrad_steps(case, params, x, y):
    model = sg.nn.Sequential(
        sg.nn.Linear(*case["sizes"][:2]),
        sg.nn.Tanh() if case["act"] == "tanh" else sg.nn.ReLU(),
        sg.nn.Linear(*case["sizes"][1:]),
    )
    if case["dtype"] == np.float32:
        model.float()
    model.load_state_dict(
        dict(zip(["0.weight", "0.bias", "2.weight", "2.bias"], params, strict=False))
    )
    criterion = sg.nn.MSELoss() if case["opt"] == "sgd" else sg.nn.CrossEntropyLoss()
    make = sg.optim.SGD if case["opt"] == "sgd" else sg.optim.Adam
    opt = make(model.parameters(), lr=case["lr"])

    def eager():
        opt.zero_grad()
        loss = criterion(model(sg.tensor(x)), sg.tensor(y))
        loss.backward()
        opt.step()
        return loss

    @sg.compile
    def compiled(inputs, labels):
        opt.zero_grad()
        loss = criterion(model(inputs), labels)
        loss.backward()
        opt.step()
        return loss

    return eager, lambda: compiled(x, y)


def torch_step(case, params, x, y):
    tp = [torch.tensor(p, requires_grad=True) for p in params]
    tx, ty = torch.tensor(x), torch.tensor(y)
    act = torch.tanh if case["act"] == "tanh" else torch.relu
    make = torch.optim.SGD if case["opt"] == "sgd" else torch.optim.Adam
    opt = make(tp, lr=case["lr"])
    loss_fn = (
        torch.nn.functional.mse_loss if case["opt"] == "sgd" else torch.nn.functional.cross_entropy
    )

    def step():
        opt.zero_grad()
        w1, b1, w2, b2 = tp
        loss = loss_fn(act(tx @ w1.T + b1) @ w2.T + b2, ty)
        loss.backward()
        opt.step()
        return loss

    return step


def jax_step(case, params, x, y):
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    act = jnp.tanh if case["act"] == "tanh" else (lambda v: jnp.maximum(v, 0))

    def loss(ps, x, y):
        w1, b1, w2, b2 = ps
        out = act(x @ w1.T + b1) @ w2.T + b2
        if case["opt"] == "sgd":
            return jnp.mean((out - y) ** 2)
        logp = jax.nn.log_softmax(out, axis=1)
        return -jnp.mean(logp[jnp.arange(x.shape[0]), y])

    lr, b1, b2, eps = case["lr"], 0.9, 0.999, 1e-8

    @jax.jit
    def step(state, x, y):
        ps, m, v, t = state
        value, grads = jax.value_and_grad(loss)(ps, x, y)
        if case["opt"] == "sgd":
            return (tuple(p - lr * g for p, g in zip(ps, grads, strict=False)), m, v, t), value
        t = t + 1
        m = tuple(b1 * mi + (1 - b1) * g for mi, g in zip(m, grads, strict=False))
        v = tuple(b2 * vi + (1 - b2) * g * g for vi, g in zip(v, grads, strict=False))
        new = tuple(
            p - lr / (1 - b1**t) * mi / (jnp.sqrt(vi / (1 - b2**t)) + eps)
            for p, mi, vi in zip(ps, m, v, strict=False)
        )
        return (new, m, v, t), value

    ps = tuple(jnp.asarray(p) for p in params)
    zeros = tuple(jnp.zeros_like(p) for p in ps)
    state = [(ps, zeros, zeros, 0.0)]
    jx, jy = jnp.asarray(x), jnp.asarray(y)

    def run():
        state[0], value = step(state[0], jx, jy)
        return jax.block_until_ready(value)

    return run


def numpy_step(case, params, x, y):
    ps = [p.copy() for p in params]
    m = [np.zeros_like(p) for p in ps]
    v = [np.zeros_like(p) for p in ps]
    t = [0]
    n = x.shape[0]

    def step():
        w1, b1, w2, b2 = ps
        z = x @ w1.T + b1
        h = np.tanh(z) if case["act"] == "tanh" else np.maximum(z, 0)
        out = h @ w2.T + b2
        if case["opt"] == "sgd":
            d_out = 2 * (out - y) / out.size
        else:
            e = np.exp(out - out.max(axis=1, keepdims=True))
            d_out = e / e.sum(axis=1, keepdims=True)
            d_out[np.arange(n), y] -= 1
            d_out /= n
        dh = d_out @ w2
        dz = dh * (1 - h * h) if case["act"] == "tanh" else dh * (z > 0)
        grads = [dz.T @ x, dz.sum(0), d_out.T @ h, d_out.sum(0)]
        if case["opt"] == "sgd":
            for p, g in zip(ps, grads, strict=False):
                p -= case["lr"] * g
            return
        t[0] += 1
        for p, g, mi, vi in zip(ps, grads, m, v, strict=False):
            mi += (g - mi) * 0.1
            vi *= 0.999
            vi += 0.001 * g * g
            p -= case["lr"] / (1 - 0.9 ** t[0]) * mi / (np.sqrt(vi / (1 - 0.999 ** t[0])) + 1e-8)

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run)")
    args = parser.parse_args()
    print(f"Machine: {machine()}; one thread for PyTorch, BLAS and XLA")
    rows = []
    for key, (repeats, number) in (("a", (15, 200)), ("b", (15, 20))):
        case = CASES[key]
        rng = np.random.default_rng(0)
        x, y = _data(case, rng)
        params = _init(case, rng)
        eager, compiled = symgrad_steps(case, params, x, y)
        contenders = {
            "symgrad compiled": compiled,
            "symgrad eager": eager,
            "PyTorch eager": torch_step(case, params, x, y),
            "NumPy by hand": numpy_step(case, params, x, y),
        }
        jax_fn = jax_step(case, params, x, y)
        if jax_fn is not None:
            contenders["JAX jit"] = jax_fn
        for fn in contenders.values():  # compile and warm up
            for _ in range(3):
                fn()
        if args.quick:
            repeats, number = 3, max(1, number // 10)
        medians = interleaved_medians(contenders, repeats, number)
        base = medians["PyTorch eager"]
        label = "(a) 4-16-1 f64 SGD b32" if key == "a" else "(b) 784-128-10 f32 Adam b64"
        rows += [(label, name, t, t / base) for name, t in medians.items()]
    print()
    print(table(rows))


if __name__ == "__main__":
    main()
