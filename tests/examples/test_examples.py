"""The examples run and print what they promise."""

from __future__ import annotations

import os
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


def _run(name: str, *args: str, tier: str | None = None) -> str:
    """The example's output; ``tier`` sets ``SYMGRAD_COMPILE`` (the session's otherwise)."""
    env = {**os.environ, "SYMGRAD_COMPILE": tier} if tier else None
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / name), *args],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return done.stdout


def test_linear_regression_learns_the_weights():
    out = _run("linear_regression.py")
    assert "learned weights: [ 1.99" in out and "-2.99" in out
    assert "∂f/∂model.weights = x.T*(x*model.weights + model.bias - y)/2" in out


def test_train_digits_reaches_95_percent():
    out = _run("train_digits.py")
    accuracy = float(out.split("test accuracy: ")[1].split("%")[0])
    assert accuracy >= 95.0
    assert "steps/s" in out and (ROOT / "examples" / "digits_loss.png").exists()


# The two examples below run as a user runs them, on the interpreter while their step's
# kernel compiles in the background: compiled first (the session's sync tier), each would
# spend minutes in Numba before its first step.


def test_digits_cnn_reaches_97_percent():
    out = _run("digits_cnn.py", tier="background")
    accuracy = float(out.split("test accuracy: ")[1].split("%")[0])
    assert accuracy >= 97.0
    assert (ROOT / "examples" / "digits_cnn_loss.png").exists()


def test_char_transformer_beats_the_unigram_baseline():
    out = _run("char_transformer.py", "--steps", "150", tier="background")  # (full run: 400)
    unigram = float(out.split("unigram entropy ")[1].split()[0])
    loss = float(out.split("final loss: ")[1].split()[0])
    assert 3.0 < unigram < 3.2  # the Zen of Python's character frequencies
    assert loss < 2.0  # a model that ignores the context cannot go below the unigram entropy
    sample = out.split("sample:\n")[1]
    assert sample.startswith("Beautiful is ") and len(sample) > 200  # the prompt and 200 more
    assert (ROOT / "examples" / "char_transformer_loss.png").exists()
