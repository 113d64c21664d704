"""Seed benchmark: Q = 3*a**3 - b**2 and its vector-Jacobian product (all-ones upstream).

dQ/da = 9a², dQ/db = -2b, float64, N = 1e3 and 1e6, all contenders timed in one process
(interleaved, median of repeats) against a hand-written fused Numba loop, the reference.

Run:  python benchmarks/seed.py            (full run, about 1.5 minutes)
      python benchmarks/seed.py --quick    (smoke run, fewer repeats, under ~30 s)
"""

from __future__ import annotations

import argparse
import statistics

import numba
import numpy as np
import torch
from common import interleaved_samples, machine

import symgrad as sg

TARGET_RATIO = 1.3  # symgrad compiled / fresh-output reference, at N = 1e6
TARGET_OVERHEAD_US = 5.0  # symgrad compiled minus fresh-output reference, per call at N = 1e3
REF, REF_PRE = "numba fused loop (reference)", "numba fused loop, preallocated"


@numba.njit(error_model="numpy")
def fused(a, b, ga, gb):
    """sum(Q) returned; ga, gb written: one pass over a and b."""
    s = 0.0
    for i in range(a.shape[0]):
        x = a[i]
        y = b[i]
        s += 3.0 * (x * x * x) - y * y
        ga[i] = 9.0 * (x * x)
        gb[i] = -2.0 * y
    return s


def contenders(n: int, a: np.ndarray, b: np.ndarray) -> dict:
    """name -> (variant, step); step() returns (Q or sum(Q), dQ/da, dQ/db), native types."""
    cases = {}

    def ref_fresh():  # outputs allocated in the Python wrapper, as symgrad does
        ga, gb = np.empty(n), np.empty(n)
        return fused(a, b, ga, gb), ga, gb

    ga_buf, gb_buf = np.empty(n), np.empty(n)
    cases[REF] = ("fresh", ref_fresh)
    cases[REF_PRE] = ("prealloc", lambda: (fused(a, b, ga_buf, gb_buf), ga_buf, gb_buf))

    vg = sg.value_and_grad(lambda x, y: (3 * x**3 - y**2).sum(), argnums=(0, 1))

    def sg_compiled():
        value, (ga, gb) = vg(a, b)
        return value, ga, gb

    cases["symgrad compiled value_and_grad"] = ("fresh", sg_compiled)

    sa, sb = sg.tensor(a, requires_grad=True), sg.tensor(b, requires_grad=True)
    s_ones = sg.tensor(np.ones(n))

    def sg_eager(fresh: bool):
        def step():
            if fresh:
                sa.grad = sb.grad = None
            q = 3 * sa**3 - sb**2
            q.backward(gradient=s_ones)
            return q, sa.grad, sb.grad

        return step

    cases["symgrad eager"] = ("fresh", sg_eager(True))
    cases["symgrad eager, accumulate"] = ("accumulate", sg_eager(False))

    ta = torch.tensor(a, requires_grad=True)
    tb = torch.tensor(b, requires_grad=True)
    t_ones = torch.ones(n, dtype=torch.float64)

    def torch_eager(fresh: bool):
        def step():
            if fresh:
                ta.grad = tb.grad = None
            q = 3 * ta**3 - tb**2
            q.backward(gradient=t_ones)
            return q, ta.grad, tb.grad

        return step

    cases["torch eager"] = ("fresh", torch_eager(True))
    cases["torch eager, accumulate"] = ("accumulate", torch_eager(False))
    cases["numpy formulas"] = ("fresh", lambda: (3 * a**3 - b**2, 9 * a * a, -2 * b))
    return cases


def as_numpy(result) -> tuple[float, np.ndarray, np.ndarray]:
    """(sum(Q), copy of dQ/da, copy of dQ/db) from any contender's step() result."""
    out = []
    for x in result:
        if isinstance(x, torch.Tensor):
            x = x.detach().numpy()
        out.append(np.array(x.numpy() if isinstance(x, sg.Tensor) else x, dtype=np.float64))
    return float(out[0].sum()), out[1], out[2]


def check(cases: dict, a: np.ndarray, b: np.ndarray) -> None:
    """Every contender's value and gradients agree with the NumPy formulas (compiles too)."""
    expect = ((3 * a**3 - b**2).sum(), 9 * a * a, -2 * b)
    for name, (variant, step) in cases.items():
        first = as_numpy(step())
        got = as_numpy(step())
        if variant == "accumulate":  # the second call adds one more VJP onto .grad
            got = (got[0], got[1] - first[1], got[2] - first[2])
        for g, e in zip(got, expect, strict=True):
            np.testing.assert_allclose(g, e, rtol=1e-9, atol=1e-9, err_msg=name)


def measure(cases: dict, calls: int, repeats: int) -> dict[str, list[float]]:
    """Per-call µs of each contender per repeat; contenders interleaved, order rotated."""
    steps = {name: step for name, (_, step) in cases.items()}
    samples = interleaved_samples(steps, repeats, calls)
    return {name: [t * 1e6 for t in values] for name, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (smoke run)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    plans = {1_000: (200, 5), 1_000_000: (1, 5)} if args.quick else {}
    plans = plans or {1_000: (1000, 15), 1_000_000: (1, 30)}

    print(f"Machine: {machine()}")
    print("torch.set_num_threads(1); numba loops and NumPy are single-threaded too.")
    print("Reference: @numba.njit fused loop; 'fresh' allocates ga, gb with np.empty in the")
    print("Python wrapper per call (like symgrad compiled), 'prealloc' reuses buffers.")
    print("Eager/NumPy contenders also materialize Q; compiled/reference only sum(Q).")
    print("NumPy's a**3 is np.power (no fast path for exponent 3, unlike a*a*a).\n")
    print("| contender | variant | N | median µs | × ref (fresh) | × ref (prealloc) |")
    print("|---|---|---:|---:|---:|---:|")
    results = {}
    for n, (calls, repeats) in plans.items():
        rng = np.random.default_rng(20240601)
        a, b = rng.standard_normal(n), rng.standard_normal(n)
        cases = contenders(n, a, b)
        check(cases, a, b)
        for _ in range(3):  # warm-up beyond the compile done in check()
            for _, step in cases.values():
                step()
        samples = measure(cases, calls, repeats)
        med = {name: statistics.median(s) for name, s in samples.items()}
        for name, (variant, _) in cases.items():
            print(
                f"| {name} | {variant} | {n:,} | {med[name]:,.2f} | "
                f"{med[name] / med[REF]:.2f} | {med[name] / med[REF_PRE]:.2f} |"
            )
        results[n] = samples, med

    samples, _ = results[1_000]
    compiled = samples["symgrad compiled value_and_grad"]
    overhead = statistics.median(c - r for c, r in zip(compiled, samples[REF], strict=True))
    _, med = results[1_000_000]
    ratio = med["symgrad compiled value_and_grad"] / med[REF]
    print()
    print("symgrad compiled per-call overhead at N=1e3 (median of paired differences vs the")
    print(f"fresh reference): {overhead:.2f} µs; target < {TARGET_OVERHEAD_US} µs -> ", end="")
    print("MET" if overhead < TARGET_OVERHEAD_US else "NOT MET")
    print(f"symgrad compiled / fresh reference at N=1e6: {ratio:.2f}x; target <= ", end="")
    print(f"{TARGET_RATIO}x -> {'MET' if ratio <= TARGET_RATIO else 'NOT MET'}")


if __name__ == "__main__":
    main()
