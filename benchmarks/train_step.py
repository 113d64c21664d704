"""Training-step benchmark: symgrad compiled step and eager loop vs PyTorch, JAX and NumPy.

Cases (``--cases``, default all):
  (a) MLP 4 -> 16 -> 1 (tanh), batch 32, float64, SGD(lr=0.01), MSE loss
  (b) MLP 784 -> 128 -> 10 (relu), batch 64, float32, Adam(lr=1e-3), cross entropy
  (c) the model of examples/char_transformer.py with one block (n_layer=1): vocabulary 45,
      context 32, width 64, 4 heads; batch 16 of random tokens, float32,
      AdamW(lr=3e-3, weight_decay=0.01), cross entropy over the next tokens
  (d) the CNN of examples/digits_cnn.py (Conv2d 1->16, ReLU, MaxPool2d, Conv2d 16->32, ReLU,
      Linear 512->10), batch 32 of random 8x8 images, float32, Adam(lr=3e-3), cross entropy
Each contender does a whole step: forward, loss, backward, parameter update.
Contenders: symgrad compiled (@sg.compile over zero_grad/forward/backward/step; on (c)
and (d) ``tier="sync"``, checked to run its kernel before timing), symgrad eager loop,
PyTorch eager (one thread), JAX jit of value_and_grad + update, hand-written NumPy
((a) and (b) only). On (c) and (d) every model starts from PyTorch's initial weights
(its state_dict), and the script first checks that each contender's first-step loss
matches PyTorch's (relative 1e-4; a symgrad mismatch stops the run). Targets: on (a)
symgrad compiled >= 10x faster than PyTorch eager and faster than JAX; on (b), (c) and
(d) at least as fast as PyTorch eager; symgrad eager no slower than PyTorch eager on (a).

Run:  python benchmarks/train_step.py                 (about 5 minutes with an empty kernel
                                                       cache: (c) and (d) compile for 1-2)
      python benchmarks/train_step.py --quick         (a smoke run: 3 repeats)
      python benchmarks/train_step.py --cases c d
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one BLAS thread for every contender
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false")

import argparse
import time
import types
from pathlib import Path

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


# ------------------------------------------------ (c) transformer block, (d) digits CNN

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
VOCAB = 45  # distinct characters of the Zen of Python, the text of char_transformer.py
TRANSFORMER = dict(batch=16, block_size=32, n_embd=64, n_head=4, lr=3e-3, weight_decay=0.01)
CNN = dict(batch=32, lr=3e-3)  # examples/digits_cnn.py: batch 32, Adam(lr=3e-3), float32


def _example(library: str) -> types.ModuleType:
    """examples/char_transformer.py with its symgrad imports pointed at ``library``."""
    path = EXAMPLES / "char_transformer.py"
    source = path.read_text()
    for line in source.splitlines():
        if line.startswith(("import ", "from ")) and "symgrad" in line:
            source = source.replace(line, line.replace("symgrad", library))
    module = types.ModuleType(f"char_transformer_{library}")
    exec(compile(source, str(path), "exec"), module.__dict__)
    return module


def _cnn(nn):
    """The network of examples/digits_cnn.py, built from ``symgrad.nn`` or ``torch.nn``."""
    return nn.Sequential(
        nn.Conv2d(1, 16, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(32 * 4 * 4, 10),
    )


def _models(key):
    """The case's model in PyTorch (seeded init) and a factory of symgrad copies of it."""
    torch.manual_seed(0)
    if key == "c":
        sizes = {k: TRANSFORMER[k] for k in ("block_size", "n_embd", "n_head")}
        reference = _example("torch").CharTransformer(VOCAB, n_layer=1, **sizes)
        ours = _example("symgrad")
        make = lambda: ours.CharTransformer(VOCAB, n_layer=1, **sizes)  # noqa: E731
    else:
        reference = _cnn(torch.nn)
        make = lambda: _cnn(sg.nn)  # noqa: E731
    state = {name: value.numpy() for name, value in reference.state_dict().items()}

    def symgrad_model():
        model = make().float()
        model.load_state_dict(state)
        return model

    return reference, symgrad_model


def _model_data(key, rng):
    if key == "c":
        shape = (TRANSFORMER["batch"], TRANSFORMER["block_size"])
        return rng.integers(0, VOCAB, shape), rng.integers(0, VOCAB, shape)
    images = rng.random((CNN["batch"], 1, 8, 8), dtype=np.float32)
    return images, rng.integers(0, 10, CNN["batch"])


def _optimizer(key, library, params):
    if key == "c":
        return library.optim.AdamW(
            params, lr=TRANSFORMER["lr"], weight_decay=TRANSFORMER["weight_decay"]
        )
    return library.optim.Adam(params, lr=CNN["lr"])


def model_symgrad_steps(key, make_model, x, y):
    """Eager loop and ``@sg.compile``'d step, each on its own copy of the model."""

    def build():
        model = make_model()
        opt = _optimizer(key, sg, model.parameters())
        criterion = sg.nn.CrossEntropyLoss()
        if key == "c":
            return lambda inputs, labels: model(inputs, labels), opt
        return lambda inputs, labels: criterion(model(inputs), labels), opt

    loss_fn, opt = build()
    sx, sy = sg.tensor(x), sg.tensor(y)

    def eager():
        opt.zero_grad()
        loss = loss_fn(sx, sy)
        loss.backward()
        opt.step()
        return loss

    compiled_loss, compiled_opt = build()

    def step(inputs, labels):
        compiled_opt.zero_grad()
        loss = compiled_loss(inputs, labels)
        loss.backward()
        compiled_opt.step()
        return loss

    compiled = sg.compile(step, tier="sync")  # steady state: the kernel, never the interpreter
    return eager, lambda: compiled(x, y), compiled


def model_torch_step(key, reference, x, y):
    opt = _optimizer(key, torch, reference.parameters())
    tx, ty = torch.tensor(x), torch.tensor(y)

    def step():
        opt.zero_grad()
        if key == "c":
            loss = reference(tx, ty)
        else:
            loss = torch.nn.functional.cross_entropy(reference(tx), ty)
        loss.backward()
        opt.step()
        return loss

    return step


def _jax_transformer_loss(jax, jnp, x, y):
    """The n_layer=1 CharTransformer's loss, by hand, on a dict of torch-named parameters."""
    n_head = TRANSFORMER["n_head"]
    mask = jnp.tril(jnp.ones((x.shape[1], x.shape[1]), dtype=bool))

    def layer_norm(h, p, name):
        mean = h.mean(-1, keepdims=True)
        var = ((h - mean) ** 2).mean(-1, keepdims=True)
        return (h - mean) / jnp.sqrt(var + 1e-5) * p[name + ".weight"] + p[name + ".bias"]

    def linear(h, p, name):
        return h @ p[name + ".weight"].T + p[name + ".bias"]

    def loss(p):
        B, T = x.shape
        h = p["wte.weight"][x] + p["wpe.weight"][:T]
        C = h.shape[-1]
        q, k, v = jnp.split(
            linear(layer_norm(h, p, "blocks.0.ln_1"), p, "blocks.0.attn.c_attn"), 3, -1
        )
        heads = lambda t: t.reshape(B, T, n_head, C // n_head).transpose(0, 2, 1, 3)  # noqa: E731
        q, k, v = heads(q), heads(k), heads(v)
        att = (q @ k.transpose(0, 1, 3, 2)) * (1.0 / np.sqrt(C // n_head))
        att = jax.nn.softmax(jnp.where(mask, att, -jnp.inf), axis=-1)
        att = (att @ v).transpose(0, 2, 1, 3).reshape(B, T, C)
        h = h + linear(att, p, "blocks.0.attn.c_proj")
        m = jax.nn.gelu(
            linear(layer_norm(h, p, "blocks.0.ln_2"), p, "blocks.0.mlp.0"), approximate=False
        )
        h = h + linear(m, p, "blocks.0.mlp.2")
        logits = linear(layer_norm(h, p, "ln_f"), p, "lm_head").reshape(B * T, -1)
        logp = jax.nn.log_softmax(logits, axis=1)
        return -jnp.mean(logp[jnp.arange(B * T), y.reshape(-1)])

    return loss


def _jax_cnn_loss(jax, jnp, x, y):
    def conv(h, w, b):
        out = jax.lax.conv_general_dilated(
            h, w, (1, 1), ((1, 1), (1, 1)), dimension_numbers=("NCHW", "OIHW", "NCHW")
        )
        return out + b[None, :, None, None]

    def loss(p):
        h = jnp.maximum(conv(x, p["0.weight"], p["0.bias"]), 0)
        h = jax.lax.reduce_window(h, -jnp.inf, jax.lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")
        h = jnp.maximum(conv(h, p["3.weight"], p["3.bias"]), 0).reshape(x.shape[0], -1)
        logp = jax.nn.log_softmax(h @ p["6.weight"].T + p["6.bias"], axis=1)
        return -jnp.mean(logp[jnp.arange(x.shape[0]), y])

    return loss


def model_jax_step(key, reference, x, y):
    """``jit`` of ``value_and_grad`` of the hand-written loss plus the AdamW/Adam update."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jx, jy = jnp.asarray(x), jnp.asarray(y)
    make = _jax_transformer_loss if key == "c" else _jax_cnn_loss
    loss = make(jax, jnp, jx, jy)
    lr = TRANSFORMER["lr"] if key == "c" else CNN["lr"]
    decay = TRANSFORMER["weight_decay"] if key == "c" else 0.0
    b1, b2, eps = 0.9, 0.999, 1e-8
    tree_map = jax.tree_util.tree_map

    @jax.jit
    def step(state):
        ps, m, v, t = state
        value, grads = jax.value_and_grad(loss)(ps)
        t = t + 1
        m = tree_map(lambda mi, g: b1 * mi + (1 - b1) * g, m, grads)
        v = tree_map(lambda vi, g: b2 * vi + (1 - b2) * g * g, v, grads)
        new = tree_map(
            lambda p, mi, vi: (
                p * (1 - lr * decay) - lr / (1 - b1**t) * mi / (jnp.sqrt(vi / (1 - b2**t)) + eps)
            ),
            ps,
            m,
            v,
        )
        return (new, m, v, t), value

    ps = {name: jnp.asarray(p.detach().numpy()) for name, p in reference.named_parameters()}
    zeros = tree_map(jnp.zeros_like, ps)
    state = [(ps, zeros, zeros, 0.0)]

    def run():
        state[0], value = step(state[0])
        return jax.block_until_ready(value)

    return run


LABELS = {
    "a": "(a) 4-16-1 f64 SGD b32",
    "b": "(b) 784-128-10 f32 Adam b64",
    "c": "(c) transformer block f32 AdamW b16 T32",
    "d": "(d) digits CNN f32 Adam b32",
}
TIMING = {"a": (15, 200), "b": (15, 20), "c": (15, 10), "d": (15, 20)}  # (repeats, number)
CHECK_RTOL = 1e-4


def _contenders(key):
    """The case's contenders by name, and the compiled function (to read its tier)."""
    rng = np.random.default_rng(0)
    if key in CASES:
        case = CASES[key]
        x, y = _data(case, rng)
        params = _init(case, rng)
        eager, _ = symgrad_steps(case, params, x, y)  # a model each, so the first steps match
        _, compiled = symgrad_steps(case, params, x, y)
        contenders = {
            "symgrad compiled": compiled,
            "symgrad eager": eager,
            "PyTorch eager": torch_step(case, params, x, y),
            "NumPy by hand": numpy_step(case, params, x, y),
        }
        jax_fn, handle = jax_step(case, params, x, y), None
    else:
        x, y = _model_data(key, rng)
        reference, make_model = _models(key)
        jax_fn = model_jax_step(key, reference, x, y)  # reads the initial weights
        eager, compiled, handle = model_symgrad_steps(key, make_model, x, y)
        contenders = {
            "symgrad compiled": compiled,
            "symgrad eager": eager,
            "PyTorch eager": model_torch_step(key, reference, x, y),
        }
    if jax_fn is not None:
        contenders["JAX jit"] = jax_fn
    return contenders, handle


def _first_steps(key, contenders, handle) -> None:
    """Run each contender's first step (compiling it), check its loss against PyTorch's."""
    losses, seconds = {}, {}
    for name, fn in contenders.items():
        began = time.perf_counter()
        value = fn()
        seconds[name] = time.perf_counter() - began
        if value is not None:
            losses[name] = float(value.item() if hasattr(value, "item") else value)
    base = losses["PyTorch eager"]
    for name, loss in losses.items():
        rel = abs(loss - base) / abs(base)
        ok = "ok" if rel <= CHECK_RTOL else "MISMATCH"
        print(
            f"  {key} {name:<17} first-step loss {loss:.7f} (rel. diff {rel:.1e} {ok}), "
            f"first call {seconds[name]:.2f} s"
        )
        if name.startswith("symgrad") and rel > CHECK_RTOL:
            raise SystemExit(f"{name}: first-step loss differs from PyTorch's on case {key}")
    for fn in contenders.values():  # warm up
        for _ in range(2):
            fn()
    if handle is not None:
        print(f"  {key} symgrad compiled runs on: {handle.status()}")
        assert handle.status() == "kernel", handle.status()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run)")
    parser.add_argument(
        "--cases", nargs="+", choices=sorted(LABELS), default=sorted(LABELS), help="default: all"
    )
    args = parser.parse_args()
    print(f"Machine: {machine()}; one thread for PyTorch, BLAS and XLA")
    rows = []
    for key in args.cases:
        contenders, handle = _contenders(key)
        _first_steps(key, contenders, handle)
        repeats, number = TIMING[key]
        if args.quick:
            repeats, number = 3, max(1, number // 10)
        medians = interleaved_medians(contenders, repeats, number)
        base = medians["PyTorch eager"]
        rows += [(LABELS[key], name, t, t / base) for name, t in medians.items()]
    print()
    print(table(rows))


if __name__ == "__main__":
    main()
