"""The examples run and print what they promise."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_autograd_basics_runs():
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "autograd_basics.py")],
        capture_output=True,
        text=True,
        check=True,
    )
    out = done.stdout
    assert "a.grad = tensor([36., 81.])" in out
    assert "b.grad = tensor([-12.,  -8.])" in out
    assert "∂f/∂a = 9*a**2" in out and "∂f/∂b = -2*b" in out
    assert "@njit(cache=True" in out


def _run(name: str) -> str:
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / name)], capture_output=True, text=True, check=True
    )
    return done.stdout


def test_linear_regression_learns_the_weights():
    out = _run("linear_regression.py")
    assert "learned weights: [ 1.99" in out and "-2.99" in out
    assert "∂f/∂model.weights = matmul(transpose(x)" in out


def test_train_digits_reaches_95_percent():
    out = _run("train_digits.py")
    accuracy = float(out.split("test accuracy: ")[1].split("%")[0])
    assert accuracy >= 95.0
    assert "steps/s" in out and (ROOT / "examples" / "digits_loss.png").exists()
