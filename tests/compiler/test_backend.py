"""The on-disk kernel cache: reused across processes, rebuilt when damaged."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import symgrad as sg

SCRIPT = textwrap.dedent(
    """
    import json
    import numpy as np
    import symgrad as sg
    from symgrad.compiler import backend

    a = sg.tensor([2.0, 3.0], requires_grad=True)
    b = sg.tensor([6.0, 4.0], requires_grad=True)
    (3 * a**3 - b**2).backward(gradient=sg.ones(2))
    g = sg.grad(lambda x: (sg.tanh(x) * x).sum())(np.linspace(-1, 1, 5))
    print(json.dumps({
        "stats": dict(backend.STATS),
        "machine_code": backend.machine_code_stats(),
        "a_grad": a.grad.numpy().tolist(),
        "g": g.numpy().tolist(),
    }))
    """
)


def _run(cache_dir) -> dict:
    env = {**os.environ, "SYMGRAD_CACHE_DIR": str(cache_dir)}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def cache_dir(tmp_path):
    return tmp_path / "kernels"


def test_second_process_compiles_nothing(cache_dir):
    first = _run(cache_dir)
    assert first["stats"]["sources_written"] == 2
    assert first["machine_code"]["compiled"] == 2
    # (lock files are excepted: their time stamp records each kernel's last use)
    mtimes = {
        p: p.stat().st_mtime_ns for p in cache_dir.rglob("*") if p.is_file() and p.suffix != ".lock"
    }

    second = _run(cache_dir)
    assert second["stats"].get("sources_written", 0) == 0
    assert second["stats"].get("sources_rebuilt", 0) == 0
    assert second["machine_code"] == {"compiled": 0, "loaded": 2}
    assert {p: p.stat().st_mtime_ns for p in mtimes} == mtimes  # nothing rewritten
    assert second["a_grad"] == [36.0, 81.0] and second["g"] == first["g"]


def test_truncated_source_is_rebuilt(cache_dir):
    first = _run(cache_dir)
    for source in cache_dir.glob("k_*.py"):
        text = source.read_text()
        source.write_text(text[: len(text) // 2])
    again = _run(cache_dir)
    assert again["stats"]["sources_rebuilt"] == 2
    assert again["a_grad"] == [36.0, 81.0] and again["g"] == first["g"]


def test_corrupted_machine_code_is_rebuilt(cache_dir):
    first = _run(cache_dir)
    damaged = list((cache_dir / "__pycache__").glob("*.nbc"))
    assert damaged
    for path in damaged:
        path.write_bytes(path.read_bytes()[:64])
    again = _run(cache_dir)
    assert again["stats"]["machine_code_discarded"] == 2
    assert again["a_grad"] == [36.0, 81.0] and again["g"] == first["g"]


def _flip_one_bit(path, at: float) -> None:
    data = bytearray(path.read_bytes())
    data[int(len(data) * at)] ^= 0x10
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("kind", "at"), [("*.nbi", 0.5), ("*.nbc", 0.3), ("*.nbc", 0.8), ("*.sha256", 0.5)]
)
def test_a_flipped_bit_in_any_cache_file_is_rebuilt_with_right_results(cache_dir, kind, at):
    first = _run(cache_dir)
    damaged = list(cache_dir.rglob(kind))
    assert damaged
    for path in damaged:
        _flip_one_bit(path, at)
    again = _run(cache_dir)
    assert again["a_grad"] == first["a_grad"] == [36.0, 81.0]
    assert again["g"] == first["g"]
    assert again["machine_code"]["compiled"] >= 1
    if kind == "*.nbi":
        third = _run(cache_dir)  # and the rebuilt cache is trusted again
        assert third["machine_code"] == {"compiled": 0, "loaded": 2}


@pytest.mark.parametrize("layout", ["is a file", "below a file"])
def test_an_unusable_cache_dir_warns_once_and_falls_back(tmp_path, layout):
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    configured = blocker if layout == "is a file" else blocker / "kernels"
    env = {**os.environ, "SYMGRAD_CACHE_DIR": str(configured)}
    done = subprocess.run(
        [sys.executable, "-W", "always", "-c", SCRIPT], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("cannot be used") == 1, done.stderr
    assert "SYMGRAD_CACHE_DIR" in done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1])["a_grad"] == [36.0, 81.0]


def test_numba_flags_that_change_machine_code_change_the_file(monkeypatch):
    from symgrad.compiler.backend import source_digest

    plain = source_digest("def kernel(): pass\n")
    monkeypatch.setenv("NUMBA_BOUNDSCHECK", "1")
    assert source_digest("def kernel(): pass\n") != plain


def test_the_disk_cache_stays_under_its_size_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMGRAD_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("SYMGRAD_CACHE_MAX_MB", "0.05")
    functions = [sg.compile(lambda x, k=k: sg.tanh(x * k) + k, tier="sync") for k in range(1, 9)]
    x = np.linspace(-1, 1, 4)
    for k, f in enumerate(functions, start=1):
        np.testing.assert_allclose(f(x).numpy(), np.tanh(x * k) + k, rtol=1e-14)
    sizes = sum(p.stat().st_size for p in tmp_path.rglob("*") if p.is_file())
    assert len(list(tmp_path.glob("k_*.py"))) < len(functions)
    assert sizes < 0.05 * 2**20 + 100_000  # the limit, plus the newest kernel
    np.testing.assert_allclose(functions[0](x).numpy(), np.tanh(x) + 1, rtol=1e-14)
