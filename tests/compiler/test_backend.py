"""The on-disk kernel cache: reused across processes, rebuilt when damaged."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

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
    mtimes = {p: p.stat().st_mtime_ns for p in cache_dir.rglob("*") if p.is_file()}

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
