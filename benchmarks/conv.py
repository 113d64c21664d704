"""Convolution and pooling forward + backward against PyTorch eager, and the cold compile
time of a step.

Workloads (float32; loss ``conv2d(x, w).sum()``, gradients for ``x`` and ``w``, or
``max_pool2d(x, 2).sum()``, the gradient for ``x``):
  mnist-like   x (32, 16, 28, 28), w (32, 16, 3, 3)
  digits       x (64, 1, 8, 8),    w (16, 1, 3, 3)
  max pool     x (32, 32, 26, 26), 2x2 windows (the mnist-like convolution's output)

Contenders: PyTorch eager, symgrad eager (``backward()`` on recorded tensors, kernels
compiled synchronously) and symgrad compiled (``sg.value_and_grad``, ``tier="sync"``).
Each sample is the median of ``--number`` steady steps in a process of its own (one
contender per process: PyTorch's and OpenBLAS's thread pools in one process slow each
other down), processes in rotating order; the table shows the median of ``--repeats``
samples. ``--cold`` also times the first call of the compiled step in a fresh process
with an empty kernel cache (trace plus compile). Run:

  python benchmarks/conv.py                # default threads, 5 repeats
  python benchmarks/conv.py --threads 1    # every contender on one thread
  python benchmarks/conv.py --cold         # plus the cold compile time of each workload
  python benchmarks/conv.py --products     # the 28x28 step's three products, two BLAS

``--products`` times, in one process and alternately, the three matrix products of one
28x28 step (a sample per product, float32, one BLAS thread) as kernels made them before
(Numba's ``np.dot``, which calls SciPy's OpenBLAS) and now (``sg_gemm``: NumPy's).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

import numpy as np
from common import machine, table

WORKLOADS = {
    "conv2d 32x16x28x28 * 32x16x3x3": ((32, 16, 28, 28), (32, 16, 3, 3)),
    "conv2d 64x1x8x8 * 16x1x3x3 (digits)": ((64, 1, 8, 8), (16, 1, 3, 3)),
    "max_pool2d 32x32x26x26, 2x2": ((32, 32, 26, 26), None),
}


def loss(functional, x, w=None):
    """The workload's loss: a convolution's sum, or (no weight) a 2x2 max pooling's."""
    return functional.conv2d(x, w).sum() if w is not None else functional.max_pool2d(x, 2).sum()


CONTENDERS = ("PyTorch eager", "symgrad eager", "symgrad compiled")


def conv_step(contender: str, x_shape: tuple, w_shape: tuple) -> Callable[[], tuple]:
    """One forward + backward step of ``contender``, returning the gradients."""
    import torch

    import symgrad as sg
    import symgrad.nn.functional as F

    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in (x_shape, w_shape) if s]
    if contender == "PyTorch eager":
        tensors = [torch.tensor(a, requires_grad=True) for a in arrays]

        def torch_step():
            for t in tensors:
                t.grad = None
            loss(torch.nn.functional, *tensors).backward()
            return tuple(t.grad.numpy() for t in tensors)

        return torch_step
    if contender == "symgrad eager":
        tensors = [sg.tensor(a, requires_grad=True) for a in arrays]

        def eager_step():
            for t in tensors:
                t.grad = None
            loss(F, *tensors).backward()
            return tuple(t.grad.numpy() for t in tensors)

        return eager_step
    argnums = tuple(range(len(arrays)))
    step = sg.value_and_grad(lambda x, w=None: loss(F, x, w), argnums=argnums, tier="sync")

    def compiled_step():
        _, grads = step(*arrays)
        return tuple(g.numpy() for g in grads)

    return compiled_step


def measure(contender: str, workload: str, number: int) -> None:
    """Print the median seconds of ``number`` steps (after warm-up) and a checksum."""
    fn = conv_step(contender, *WORKLOADS[workload])
    for _ in range(3):  # the eager path compiles its backward once the structure repeats
        fn()
    times = []
    for _ in range(number):
        start = time.perf_counter()
        grads = fn()
        times.append(time.perf_counter() - start)
    check = [float(np.abs(g).sum()) for g in grads]
    print(json.dumps({"seconds": statistics.median(times), "check": check}))


def run(args: list[str], env: dict | None = None) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, *args], env=env, check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def cold_compile(workload: str) -> float:
    """Seconds of the first call of the compiled step, in a new process with an empty cache."""
    x_shape, w_shape = WORKLOADS[workload]
    if w_shape is None:
        make, call = "", "lambda x: F.max_pool2d(x, 2).sum(), (0,)"
    else:
        make, call = (
            f"; w = np.ones({w_shape}, np.float32)",
            "lambda x, w: F.conv2d(x, w).sum(), (0, 1)",
        )
    code = (
        "import json, time, numpy as np, symgrad as sg, symgrad.nn.functional as F\n"
        f"x = np.ones({x_shape}, np.float32){make}\n"
        f"step = sg.value_and_grad({call}, tier='sync')\n"
        f"start = time.perf_counter(); step(x{', w' if w_shape else ''})\n"
        "print(json.dumps(time.perf_counter() - start))\n"
    )
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, SYMGRAD_CACHE_DIR=cache, NUMBA_CACHE_DIR=cache)
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
        )
    return json.loads(out.stdout.strip().splitlines()[-1])


def products(rounds: int = 15) -> None:
    """Median ms of the 32 per-sample products of each kind, ``np.dot`` vs ``sg_gemm``."""
    from numba import njit

    from symgrad.compiler.blas import sg_gemm

    @njit
    def by_dot(a, b, out, transpose_a, transpose_b, reps):
        for _ in range(reps):
            if transpose_a:
                np.dot(a.T, b, out)
            elif transpose_b:
                np.dot(a, b.T, out)
            else:
                np.dot(a, b, out)

    @njit
    def by_sg_gemm(a, b, out, transpose_a, transpose_b, reps):
        for _ in range(reps):
            if transpose_a:
                sg_gemm(a.T, b, out, 0.0)
            elif transpose_b:
                sg_gemm(a, b.T, out, 0.0)
            else:
                sg_gemm(a, b, out, 0.0)

    rng = np.random.default_rng(0)
    weight, cols, grad = (
        rng.standard_normal(s).astype(np.float32) for s in ((32, 144), (144, 676), (32, 676))
    )
    kinds = {  # a, b, out, transposes: forward, input gradient, weight gradient
        "forward w @ cols (32x144 @ 144x676)": (weight, cols, np.empty((32, 676)), 0, 0),
        "input grad w.T @ g (144x32 @ 32x676)": (weight, grad, np.empty((144, 676)), 1, 0),
        "weight grad g @ cols.T (32x676 @ 676x144)": (grad, cols, np.empty((32, 144)), 0, 1),
    }
    rows = []
    for kind, (a, b, out, ta, tb) in kinds.items():
        out = out.astype(np.float32)
        times: dict[str, list[float]] = {"np.dot": [], "sg_gemm": []}
        for _ in range(rounds):
            for name, fn in (("np.dot", by_dot), ("sg_gemm", by_sg_gemm)):
                fn(a, b, out, ta, tb, 1)
                start = time.perf_counter()
                fn(a, b, out, ta, tb, 32)
                times[name].append(time.perf_counter() - start)
        dot, ours = (statistics.median(times[n]) * 1e3 for n in ("np.dot", "sg_gemm"))
        rows.append((kind, f"{dot:.2f}", f"{ours:.2f}", f"{dot / ours:.2f}"))
    print("| product (32 samples) | np.dot ms | sg_gemm ms | ratio |")
    print("|---|---:|---:|---:|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--number", type=int, default=20)
    parser.add_argument("--threads", type=int, help="OMP/OpenBLAS threads of every contender")
    parser.add_argument("--cold", action="store_true", help="also time a cold compile")
    parser.add_argument("--products", action="store_true", help="time the BLAS calls only")
    parser.add_argument("--measure", nargs=2, help=argparse.SUPPRESS)  # contender, workload
    args = parser.parse_args()
    if args.products:
        if os.environ.get("OPENBLAS_NUM_THREADS") != "1":  # read when OpenBLAS loads
            env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
            sys.exit(subprocess.run([sys.executable, __file__, "--products"], env=env).returncode)
        print(machine(), "threads: 1")
        products()
        return
    if args.measure:
        measure(*args.measure, args.number)
        return
    env = dict(os.environ)
    if args.threads:
        for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[name] = str(args.threads)
    print(machine(), f"threads: {args.threads or 'default'}")
    rows = []
    for workload in WORKLOADS:
        samples: dict[str, list[float]] = {c: [] for c in CONTENDERS}
        checks = {}
        for r in range(args.repeats):  # one process per sample, in rotating order
            for contender in CONTENDERS[r % 3 :] + CONTENDERS[: r % 3]:
                flags = ["--measure", contender, workload, "--number", str(args.number)]
                result = run(flags, env)
                samples[contender].append(result["seconds"])
                checks[contender] = result["check"]
        for contender, check in checks.items():  # the same gradients (sums of |g|)
            np.testing.assert_allclose(check, checks["PyTorch eager"], rtol=1e-4, err_msg=contender)
        reference = statistics.median(samples["PyTorch eager"])
        for contender, values in samples.items():
            median = statistics.median(values)
            rows.append((workload, contender, median, median / reference))
    print(table(rows))
    if args.cold:
        for workload in WORKLOADS:
            start = time.perf_counter()
            seconds = cold_compile(workload)
            total = time.perf_counter() - start
            times = f"first call {seconds:.1f} s (process {total:.1f} s)"
            print(f"cold compiled step, {workload}: {times}")


if __name__ == "__main__":
    main()
