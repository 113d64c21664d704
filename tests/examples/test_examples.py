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
