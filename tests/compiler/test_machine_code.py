"""The LLVM optimization level kernels compile at (``machine_code.optimization_level``)."""

from __future__ import annotations

import numpy as np
import pytest

import symgrad as sg
from symgrad.compiler import backend, machine_code


@pytest.fixture
def llvm_levels(monkeypatch, tmp_path):
    """The ``opt`` of every LLVM pass pipeline Numba builds while the test runs."""
    from numba.core import codegen

    seen: list[int] = []
    build = codegen.create_pass_builder

    def recording(tm, opt, **kwargs):
        seen.append(int(opt))
        return build(tm, opt=opt, **kwargs)

    monkeypatch.setattr(codegen, "create_pass_builder", recording)
    monkeypatch.setenv("SYMGRAD_CACHE_DIR", str(tmp_path))  # nothing cached: it compiles
    return seen


def _compile_a_kernel() -> np.ndarray:
    # a graph no other test builds: an in-memory hit would compile nothing
    f = sg.compile(lambda x: (sg.sin(x) * x + 0.0317).sum(0), tier="sync")
    return f(np.arange(6.0).reshape(3, 2)).numpy()


def test_kernels_compile_at_the_chosen_level_and_numba_keeps_its_own(llvm_levels):
    from numba.core import config

    config.reload_config()
    before = config.OPT
    np.testing.assert_allclose(
        _compile_a_kernel(),
        (np.sin(np.arange(6.0)) * np.arange(6.0) + 0.0317).reshape(3, 2).sum(0),
    )
    full = [level for level in llvm_levels if level != 0]  # 0: Numba's cheap inlining pass
    assert full and set(full) == {machine_code.OPT_LEVEL}
    assert config.OPT == before and int(before) == 3  # other Numba code: Numba's default


def test_numba_opt_set_by_the_user_wins(llvm_levels, monkeypatch):
    monkeypatch.setenv("NUMBA_OPT", "1")
    _compile_a_kernel()
    assert {level for level in llvm_levels if level != 0} == {1}


def test_the_level_is_part_of_every_kernel_digest(monkeypatch):
    plain = backend.source_digest("def kernel(): pass\n")
    monkeypatch.setattr(machine_code, "OPT_LEVEL", machine_code.OPT_LEVEL + 1)
    backend._version_tag.cache_clear()
    try:
        assert backend.source_digest("def kernel(): pass\n") != plain
    finally:
        monkeypatch.undo()
        backend._version_tag.cache_clear()
